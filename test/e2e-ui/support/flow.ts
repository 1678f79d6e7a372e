/**
 * Server side of the UI tests: the real Flow server (through the core test helper) with a plugins
 * folder holding real, built plugin executables.
 */
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { linkFixture } from '../../helpers/plugins.js';

const PLUGINS_ROOT = fileURLToPath(new URL('../../../plugins/', import.meta.url));

/**
 * The built single-file executable of `plugins/<name>`: its package.json `bin` when it declares one,
 * else `dist/<name>`. `npm run build` (which `npm test` runs first) produces it.
 */
export async function pluginExecutable(name: string): Promise<string> {
  const folder = path.join(PLUGINS_ROOT, name);
  const pkg = JSON.parse(await readFile(path.join(folder, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin ? Object.values(pkg.bin)[0] : undefined;
  const file = path.join(folder, bin ?? path.join('dist', name));
  try {
    await stat(file);
  } catch {
    throw new Error(`plugin ${name} is not built (${file} is missing): run \`npm run build\` first`);
  }
  return file;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export interface UiServer {
  server: TestServer;
  /** The UI's URL, ending in `/` (`http://127.0.0.1:<port>/`). */
  readonly uiUrl: string;
  close(): Promise<void>;
}

/**
 * Starts Flow with a fresh data dir and a plugins folder holding copies of the named plugins, and links to the
 * named test fixtures (`test/fixtures/plugins/<name>`).
 */
export async function startUiServer(plugins: string[] = [], fixtures: string[] = []): Promise<UiServer> {
  const pluginsDir = await mkdtemp(path.join(tmpdir(), 'flow-ui-plugins-'));
  for (const name of plugins) {
    const exe = await pluginExecutable(name);
    // A copy keeps the executable bit and isolates the test from rebuilds of the workspace.
    await copyFile(exe, path.join(pluginsDir, path.basename(exe)));
  }
  for (const name of fixtures) await linkFixture(pluginsDir, name);
  // A fixed port, so that a restart keeps the page's origin (and with it the login in localStorage).
  // startwaitms: the server answers once every plugin has started, so pages and tests find them all listed
  // even on a loaded machine. No liveness ping (as FAST in test/helpers/plugins.ts): on a loaded machine a
  // missed 5 s ping restarts the plugin mid-test, and its page drops the configurer until it is back.
  const server = await startTestServer({
    config: { pluginsdir: pluginsDir, 'server.port': await freePort(), 'plugins.startwaitms': 30_000, 'plugins.pingintervalseconds': 0 },
  });
  return {
    server,
    get uiUrl() {
      return `${server.url}/`;
    },
    async close() {
      await server.close();
      await rm(pluginsDir, { recursive: true, force: true });
    },
  };
}
