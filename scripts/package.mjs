#!/usr/bin/env node
// `npm run package [-- --out DIR]`: the server as one installable npm package, `flow-server-<version>.tgz`,
// which `npm install -g ./flow-server-<version>.tgz` turns into a `flow` command:
//
//   dist/        the server (and the entry of its stream process), bundled by esbuild with the workspace packages (@flow/*) and the
//                pure-JavaScript third-party packages inlined: a start then reads a few files
//                instead of ~500 modules (half the CPU of a start, bench/README.md "start");
//                native packages (classic-level, @node-rs/bcrypt), pino with its transport
//                workers, and the Gotify import's database drivers (loaded only by `flow import`)
//                stay files in node_modules
//   ui/dist/     the web UI
//   plugins/     the bundled plugins (plugin.yaml, README and the one file each runs)
//   npm-shrinkwrap.json   exactly the dependency versions of package-lock.json, so an install
//                gets what the tests ran with (and works offline from the npm cache)
//
// The staging folder is build/package/; the tarball lands in build/ (or --out).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { ROOT, staleReason } from './build-state.mjs';

const outIdx = process.argv.indexOf('--out');
const OUT = outIdx > 0 ? path.resolve(process.argv[outIdx + 1]) : path.join(ROOT, 'build');
const STAGE = path.join(ROOT, 'build', 'package');
const read = (f) => JSON.parse(readFileSync(path.join(ROOT, f), 'utf8'));

const why = staleReason();
if (why !== undefined) {
  process.stdout.write(`flow package: building first (${why})\n`);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

rmSync(STAGE, { recursive: true, force: true });
mkdirSync(STAGE, { recursive: true });

// 1. The server, with the workspace packages and pure-JavaScript dependencies inlined.
const workspacePkgs = new Set(['@flow/protocol', '@flow/server', '@flow/plugin-kit']);
/** Left as files: native code, worker threads started by file name, and what only `flow import` loads. */
const EXTERNAL = new Set([
  'classic-level',
  'node-gyp-build',
  '@node-rs/bcrypt',
  'pino',
  'pino-pretty',
  'thread-stream',
  'better-sqlite3',
  'pg',
  'pg-native',
  'mysql2',
  // ws's optional native speed-ups, tried with require() in a try/catch.
  'bufferutil',
  'utf-8-validate',
]);
await build({
  // stream-process-main: the stream process (server/src/stream/stream-process.ts) is started by
  // file name, next to the code that starts it.
  entryPoints: {
    main: path.join(ROOT, 'server/dist/main.js'),
    flow: path.join(ROOT, 'server/dist/flow.js'),
    'stream-process-main': path.join(ROOT, 'server/dist/stream/stream-process-main.js'),
  },
  outdir: path.join(STAGE, 'dist'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // CommonJS dependencies inlined into ESM still call require() (Node built-ins): give them a real one.
  banner: { js: "import { createRequire as __flowCreateRequire } from 'node:module';\nconst require = __flowCreateRequire(import.meta.url);" },
  plugins: [
    {
      name: 'external-native-and-workers',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith('node:')) return { external: true };
          const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
          return EXTERNAL.has(name) ? { external: true } : undefined;
        });
      },
    },
  ],
});
mkdirSync(path.join(STAGE, 'bin'));
cpSync(path.join(ROOT, 'server/bin/flow.mjs'), path.join(STAGE, 'bin/flow.mjs'));

// 2. The web UI.
cpSync(path.join(ROOT, 'server/ui/dist'), path.join(STAGE, 'ui/dist'), { recursive: true });

// 3. The bundled plugins: each folder with a plugin.yaml, with the file its command runs.
for (const name of readdirSync(path.join(ROOT, 'plugins')).sort()) {
  const src = path.join(ROOT, 'plugins', name);
  const manifestFile = path.join(src, 'plugin.yaml');
  if (!existsSync(manifestFile)) continue;
  const manifest = parseYaml(readFileSync(manifestFile, 'utf8'));
  const runs = manifest.command.includes('/') ? manifest.command : manifest.args?.[0];
  if (!runs || !existsSync(path.join(src, runs))) throw new Error(`plugins/${name}: ${runs} is missing (was it built?)`);
  const dst = path.join(STAGE, 'plugins', name);
  for (const f of ['plugin.yaml', 'README.md', runs]) {
    if (existsSync(path.join(src, f))) cpSync(path.join(src, f), path.join(dst, f), { recursive: true });
  }
}

// 4. package.json: third-party dependencies of the inlined workspace packages.
const server = read('server/package.json');
const protocol = read('protocol/package.json');
const root = read('package.json');
const dependencies = {};
for (const deps of [protocol.dependencies, server.dependencies]) {
  for (const [n, v] of Object.entries(deps ?? {})) if (!workspacePkgs.has(n)) dependencies[n] = v;
}
const pkg = {
  name: 'flow-server',
  version: server.version,
  description: server.description,
  license: 'MIT',
  type: 'module',
  bin: { flow: './bin/flow.mjs' },
  main: './dist/flow.js',
  engines: root.engines,
  dependencies: Object.fromEntries(Object.entries(dependencies).sort()),
};
writeFileSync(path.join(STAGE, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');

// 5. npm-shrinkwrap.json: the closure of those dependencies as package-lock.json resolved them.
const lock = read('package-lock.json');
const packages = { '': { name: pkg.name, version: pkg.version, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines } };
/** Node's lookup: <from>/node_modules/<name>, then each parent's. */
function locate(name, from) {
  let dir = from;
  for (;;) {
    const key = (dir === '' ? '' : dir + '/') + 'node_modules/' + name;
    if (lock.packages[key]) return key;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}
const queue = Object.keys(dependencies).map((n) => [n, 'server', false]);
const seen = new Set();
while (queue.length > 0) {
  const [name, from, optional] = queue.shift();
  const key = locate(name, from);
  if (!key) {
    if (optional) continue; // an optional dependency for another platform
    throw new Error(`${name} (needed by ${from || 'the package'}) is not in package-lock.json`);
  }
  if (seen.has(key)) continue;
  seen.add(key);
  const entry = lock.packages[key];
  if (entry.link) throw new Error(`${name} is a workspace link; inline it instead`);
  // Keys of packages nested under a workspace folder move to the top: none are expected.
  const target = key.replace(/^(server|protocol)\//, '');
  if (packages[target] && target !== key) throw new Error(`${target} would be shadowed in the shrinkwrap`);
  const { dev, devOptional, peer, ...kept } = entry;
  // package-lock.json here carries no `resolved`; without it npm must ask the registry where
  // the tarball is, which an offline install cannot. The registry's layout gives it.
  const pkgName = target.slice(target.lastIndexOf('node_modules/') + 'node_modules/'.length);
  kept.resolved ??= `https://registry.npmjs.org/${pkgName}/-/${pkgName.split('/').pop()}-${entry.version}.tgz`;
  packages[target] = kept;
  for (const [n] of Object.entries(entry.dependencies ?? {})) queue.push([n, key, false]);
  for (const [n] of Object.entries(entry.optionalDependencies ?? {})) queue.push([n, key, true]);
  for (const [n] of Object.entries(entry.peerDependencies ?? {})) queue.push([n, key, entry.peerDependenciesMeta?.[n]?.optional === true]);
}
writeFileSync(
  path.join(STAGE, 'npm-shrinkwrap.json'),
  JSON.stringify({ name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages }, null, 2) + '\n',
);

// 6. The dependencies themselves, inside the package (bundleDependencies): npm ignores a
// shrinkwrap in a tarball given to `npm install -g`, resolving every range afresh against the
// registry; with the exact tree bundled an install needs no registry at all (offline, air-gapped
// hosts, the container build) and runs what the tests ran. Install scripts are not needed:
// classic-level ships prebuilt binaries.
const ci = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', ...(process.argv.includes('--offline') ? ['--offline'] : [])], {
  cwd: STAGE,
  encoding: 'utf8',
});
if (ci.status !== 0) {
  process.stderr.write(ci.stdout + ci.stderr);
  process.exit(ci.status ?? 1);
}
pkg.bundleDependencies = Object.keys(pkg.dependencies);
writeFileSync(path.join(STAGE, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');

// 7. Documents.
for (const f of ['LICENSE', 'CHANGELOG.md', 'README.md']) cpSync(path.join(ROOT, f), path.join(STAGE, f));

mkdirSync(OUT, { recursive: true });
const packed = spawnSync('npm', ['pack', '--silent', '--pack-destination', OUT], { cwd: STAGE, encoding: 'utf8' });
if (packed.status !== 0) {
  process.stderr.write(packed.stderr);
  process.exit(packed.status ?? 1);
}
const file = path.join(OUT, packed.stdout.trim().split('\n').pop());
process.stdout.write(`${file}\n`);
