/**
 * Plugin-host test helpers: a plugins folder built from fixtures, a server with fast plugin
 * timings, and polling for asynchronous state (process restarts, folder watching).
 *
 *   const dir = await pluginsDir(['mock', 'hang']);        // symlinks test/fixtures/plugins/<name>
 *   const s = await startPluginServer(dir, { 'plugins.calltimeoutms': 1000 });
 *   const [mock] = (await s.api('GET', '/plugin', { auth: s.adminAuth })).body;
 *   await s.close(); await rm(dir, { recursive: true });
 *
 * A fixture folder holding plugin.mjs is linked as an executable file entry; one holding
 * plugin.yaml is linked as a folder entry. Kit-based plugins: `linkPlugin(dir, name, file)`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlowConfig } from '@flow/server';
import { startTestServer, type TestServer, type TestServerOptions } from './server.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/plugins/', import.meta.url));

/** Timings that keep plugin tests fast; each test may override. */
export const FAST: Partial<FlowConfig> = {
  'plugins.handshaketimeoutms': 5000,
  'plugins.restartbackoffbasems': 50,
  'plugins.restartbackoffmaxms': 200,
  'plugins.stoptimeoutms': 500,
  'plugins.watchdebouncems': 50,
  'plugins.pingintervalseconds': 0,
  // Most plugin tests assert on the plugins as startFlow left them: wait for every first start
  // (bounded by the handshake deadline above) rather than race the 2 s default on a loaded
  // machine. plugin-startup.test.ts sets a short wait to test listening before plugins are up.
  'plugins.startwaitms': 30_000,
  // Only the plugins a test puts in its folder, not the ones shipped with Flow.
  'plugins.bundled': false,
};

/** Links fixture `name` into `dir` as entry `as` (default: the fixture name). */
export async function linkFixture(dir: string, name: string, as = name): Promise<string> {
  const folder = path.join(FIXTURES, name);
  const target = existsSync(path.join(folder, 'plugin.yaml')) ? folder : path.join(folder, 'plugin.mjs');
  const entry = path.join(dir, as);
  await symlink(target, entry);
  return entry;
}

/** A fresh temp plugins folder holding the named fixtures. */
export async function pluginsDir(fixtures: string[] = []): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flow-plugins-'));
  for (const name of fixtures) await linkFixture(dir, name);
  return dir;
}

export interface PluginServer extends TestServer {
  pluginsDir: string;
  /** GET /plugin as `auth` (default admin). */
  plugins(auth?: string): Promise<any[]>;
  /** GET /plugin/admin/processes, by entry name. */
  processes(): Promise<Record<string, any>>;
}

/** A test server on `dir` with FAST timings; `close()` also removes `dir`. */
export async function startPluginServer(dir: string, config: Partial<FlowConfig> = {}, dataDir?: string, logger?: TestServerOptions['logger']): Promise<PluginServer> {
  const s = await startTestServer({ config: { ...FAST, pluginsdir: dir, ...config }, ...(dataDir ? { dataDir } : {}), ...(logger ? { logger } : {}) });
  const close = s.close.bind(s);
  return Object.assign(s, {
    pluginsDir: dir,
    async plugins(auth = s.adminAuth) {
      const r = await s.api('GET', '/plugin', { auth });
      if (r.status !== 200) throw new Error(`GET /plugin: ${r.status} ${r.text}`);
      return r.body as any[];
    },
    async processes() {
      const r = await s.api('GET', '/plugin/admin/processes', { auth: s.adminAuth });
      if (r.status !== 200) throw new Error(`GET /plugin/admin/processes: ${r.status} ${r.text}`);
      return Object.fromEntries((r.body as any[]).map((p) => [p.name, p]));
    },
    async close() {
      await close();
      await rm(dir, { recursive: true, force: true });
    },
  });
}

export { waitFor } from './wait.js';

/** Whether a process with this pid exists and has not exited (a zombie awaiting its reaper counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; Z means exited but not yet reaped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Webhook URL of a plugin conf from GET /plugin. */
export const hookUrl = (s: { url: string }, conf: { id: number; token: string }, sub = ''): string => `${s.url}/plugin/${conf.id}/custom/${conf.token}/${sub}`;
