/**
 * The plugin kit as a plugin author outside Flow gets it: `npm pack` of @flow/protocol and
 * @flow/plugin-kit → installed into an empty folder outside the checkout → a plugin written
 * there (TypeScript, importing only the installed kit) → `flow-plugin bundle` → `flow-plugin
 * check` (the full conformance kit, its transcripts read from the installed package) → the
 * checkout's built server runs it from that folder as its pluginsdir, and its webhook answers
 * over HTTP. Also `flow-plugin build-go` from the installed kit (it ships its Go API).
 *
 * Offline: the folder gets a package-lock.json naming the exact versions (and their registry
 * tarballs) of this repository's package-lock.json, so `npm ci --offline` installs from the npm
 * cache that `npm ci` of the repository filled. (A lock-less `npm install` needs the registry's
 * full metadata documents, which `npm ci` does not cache.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startPluginServer, waitFor, hookUrl, type PluginServer } from '../helpers/plugins.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));

let work: string;
let project: string;
let server: PluginServer | undefined;

/** Runs a command in the project folder with only the system PATH (nothing of the checkout). */
async function inProject(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(cmd, args, { cwd: project, env: { PATH: process.env.PATH, HOME: process.env.HOME }, maxBuffer: 16 * 1024 * 1024 });
}

/**
 * A package-lock.json for a project depending on `deps` (name → tarball file in `work`), with the
 * third-party closure exactly as the repository's lock resolved it.
 */
function lockfileFor(deps: Record<string, string>, extra: string[]): object {
  const lock = read('package-lock.json');
  const packages: Record<string, any> = {};
  const rootDeps: Record<string, string> = {};
  const queue: [string, boolean][] = [];
  for (const [name, tarball] of Object.entries(deps)) {
    const manifest = read(`${name === '@flow/protocol' ? 'protocol' : 'plugin-kit'}/package.json`);
    rootDeps[name] = `file:../${path.basename(tarball)}`;
    const { name: _n, description: _d, scripts: _s, files: _f, keywords: _k, repository: _r, homepage: _h, main: _m, types: _t, exports: _e, type: _ty, ...kept } = manifest;
    packages[`node_modules/${name}`] = {
      ...kept,
      resolved: `file:../${path.basename(tarball)}`,
      integrity: 'sha512-' + createHash('sha512').update(readFileSync(tarball)).digest('base64'),
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) queue.push([dep, false]);
  }
  for (const name of extra) {
    rootDeps[name] = lock.packages[`node_modules/${name}`].version;
    queue.push([name, false]);
  }
  while (queue.length > 0) {
    const [name, optional] = queue.shift()!;
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const entry = lock.packages[key];
    if (!entry) {
      if (optional) continue;
      throw new Error(`${name} is not a top-level package of package-lock.json`);
    }
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...kept } = entry;
    kept.resolved ??= `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
    packages[key] = kept;
    for (const dep of Object.keys(entry.dependencies ?? {})) queue.push([dep, false]);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) queue.push([dep, true]);
  }
  packages[''] = { name: 'greeter', version: '1.0.0', dependencies: rootDeps };
  return { name: 'greeter', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

/** The plugin of plugin-kit/README.md's example, exactly (plugin-kit/src/readme.test.ts keeps them equal). */
const PLUGIN_TS = readFileSync(path.join(ROOT, 'plugin-kit', 'test', 'fixtures', 'greeter.ts'), 'utf8');

const MAIN_TS = `import { runPlugin } from '@flow/plugin-kit';
import { plugin } from './plugin.js';

runPlugin(plugin);
`;

beforeAll(async () => {
  work = realpathSync(await mkdtemp(path.join(tmpdir(), 'flow-kit-pkg-')));
  // npm pack of each library, as a publisher runs it (prepack adds LICENSE and the conformance transcripts).
  const packed = await run('npm', ['pack', '--silent', '--pack-destination', work, '-w', '@flow/protocol', '-w', '@flow/plugin-kit'], { cwd: ROOT });
  const tarballs = packed.stdout.trim().split('\n').map((f) => path.join(work, f.trim()));
  expect(tarballs.map((f) => path.basename(f)).sort()).toEqual(['flow-plugin-kit-1.0.0.tgz', 'flow-protocol-1.0.0.tgz']);
  // postpack removed the copies again: nothing is left behind in the checkout.
  expect(existsSync(path.join(ROOT, 'plugin-kit', 'conformance'))).toBe(false);

  project = path.join(work, 'greeter');
  await mkdir(path.join(project, 'src'), { recursive: true });
  const byName = Object.fromEntries(tarballs.map((f) => [path.basename(f).startsWith('flow-protocol') ? '@flow/protocol' : '@flow/plugin-kit', f]));
  const lock = lockfileFor(byName, ['esbuild', 'typescript', '@types/node']) as any;
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'greeter', version: '1.0.0', private: true, type: 'module', dependencies: lock.packages[''].dependencies }, null, 2),
  );
  await writeFile(path.join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
  await writeFile(path.join(project, 'src', 'plugin.ts'), PLUGIN_TS);
  await writeFile(path.join(project, 'src', 'main.ts'), MAIN_TS);
  // The standalone tsconfig plugin-kit/README.md describes.
  const compilerOptions = { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] };
  await writeFile(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }, null, 2));
  await inProject('npm', ['ci', '--offline', '--no-audit', '--no-fund']);
}, 600_000);

afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('@flow/plugin-kit installed from its package', { timeout: 300_000 }, () => {
  it('is a real install: the kit and its protocol come from the tarballs, with the conformance transcripts and the Go API', async () => {
    const kit = path.join(project, 'node_modules', '@flow', 'plugin-kit');
    expect(realpathSync(kit).startsWith(project)).toBe(true); // not a link into the checkout
    expect(JSON.parse(readFileSync(path.join(kit, 'package.json'), 'utf8'))).toMatchObject({ name: '@flow/plugin-kit', license: 'MIT' });
    expect(existsSync(path.join(kit, 'LICENSE'))).toBe(true);
    expect((await readdir(path.join(kit, 'conformance'))).filter((f) => f.endsWith('.jsonl')).sort()).toEqual(
      (await readdir(path.join(ROOT, 'spec', 'conformance'))).filter((f) => f.endsWith('.jsonl')).sort(),
    );
    expect(existsSync(path.join(kit, 'go', 'go.mod'))).toBe(true);
    expect(existsSync(path.join(kit, 'src'))).toBe(false);
    expect(existsSync(path.join(project, 'node_modules', '@flow', 'protocol', 'dist', 'index.d.ts'))).toBe(true);
  });

  it('type-checks against the installed declarations (exports, types)', async () => {
    await inProject('npx', ['--offline', 'tsc', '-p', '.']);
  });

  it('bundles the plugin, passes the conformance kit, and the server runs it from that folder', async () => {
    const out = path.join(project, 'dist', 'flow-greeter.mjs');
    const bundled = await inProject('npx', ['--offline', 'flow-plugin', 'bundle', 'src/main.ts', 'dist/flow-greeter.mjs']);
    expect(bundled.stdout.trim()).toBe('dist/flow-greeter.mjs');
    expect(readFileSync(out, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);

    const check = await inProject('npx', ['--offline', 'flow-plugin', 'check', '--', out]);
    expect(check.stdout).toMatch(/\bPASS\b/);
    expect(check.stdout).not.toMatch(/\bFAIL\b/);
    // The transcripts ran too (read from the installed package): the first one is the handshake.
    expect(check.stdout).toContain('handshake');

    server = await startPluginServer(path.join(project, 'dist'), { 'plugins.bundled': false });
    const [conf] = await waitFor(async () => {
      const list = await server!.plugins();
      return list.length === 1 && list;
    }, 'the greeter plugin listed');
    expect(conf).toMatchObject({ name: 'greeter', modulePath: 'github.com/you/flow-greeter', enabled: false });
    expect((await server.api('POST', `/plugin/${conf.id}/config`, { auth: server.adminAuth, body: 'greeting: hi', headers: { 'content-type': 'application/x-yaml' } })).status).toBe(200);
    expect((await server.api('POST', `/plugin/${conf.id}/enable`, { auth: server.adminAuth })).status).toBe(200);

    const reply = await fetch(hookUrl(server, conf, 'greet'), { method: 'POST', body: 'bob' });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ greeted: 'bob' });
    const messages = await server.api('GET', '/message', { auth: server.adminAuth });
    expect(messages.body.messages.map((m: any) => [m.title, m.message])).toEqual([['Greeting', 'hi, bob!']]);
  });

  it('build-go builds a Gotify Go plugin with the Go API shipped in the package', async () => {
    const src = path.join(work, 'minimal-go');
    cpSync(path.join(ROOT, 'plugins', 'minimal-go'), src, { recursive: true, filter: (f) => !f.includes(`${path.sep}dist`) && !f.includes('node_modules') });
    const out = path.join(project, 'go-dist', 'flow-minimal-go');
    await inProject('npx', ['--offline', 'flow-plugin', 'build-go', src, '-o', out]);
    const info = JSON.parse((await inProject('npx', ['--offline', 'flow-plugin', 'info', '--', out])).stdout);
    expect(info).toMatchObject({ info: { modulePath: 'github.com/Flow/server/example/minimal', name: 'minimal plugin' }, capabilities: [] });
  });
});
