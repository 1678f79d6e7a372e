// The build's inputs and its stamp, shared by scripts/build.mjs (writes the stamp after a build)
// and scripts/start.mjs (builds only when the stamp no longer matches). The fingerprint is the
// path, size and mtime of every source file of the workspaces (a few hundred stats, ~10 ms), so
// "is the build stale?" costs nothing next to the 30-60 s of a build.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const STAMP = path.join(ROOT, 'node_modules', '.cache', 'flow-build.json');

const SKIP_DIRS = new Set(['node_modules', 'dist', 'test-output', 'screenshots', '.vite', '__pycache__']);
/** Copies scripts/pack-library.mjs puts in a package while `npm pack` runs: not sources. */
const PACK_COPIES = new Set(['protocol/LICENSE', 'plugin-kit/LICENSE', 'plugin-kit/conformance']);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name.startsWith('.') && e.name !== '.npmrc') continue;
    const full = path.join(dir, e.name);
    if (PACK_COPIES.has(path.relative(ROOT, full))) continue;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(full, out);
    } else if (e.isFile() && !e.name.endsWith('.tsbuildinfo')) {
      const st = statSync(full);
      out.push(`${path.relative(ROOT, full)}\t${st.size}\t${Math.round(st.mtimeMs)}`);
    }
  }
}

/** Workspace folders (from the root package.json, globs of one `*` level). */
export function workspaces() {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const out = [];
  for (const w of pkg.workspaces ?? []) {
    if (w.endsWith('/*')) {
      const parent = path.join(ROOT, w.slice(0, -2));
      for (const d of readdirSync(parent).sort()) if (existsSync(path.join(parent, d, 'package.json'))) out.push(path.join(parent, d));
    } else out.push(path.join(ROOT, w));
  }
  return out;
}

export function fingerprint() {
  const files = [];
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json']) {
    const full = path.join(ROOT, f);
    if (existsSync(full)) {
      const st = statSync(full);
      files.push(`${f}\t${st.size}\t${Math.round(st.mtimeMs)}`);
    }
  }
  for (const w of workspaces()) walk(w, files);
  return createHash('sha256').update(files.sort().join('\n')).digest('hex');
}

/** The files a start needs; a build missing any of them is not a build. */
export const OUTPUTS = ['server/dist/main.js', 'server/ui/dist/index.html', 'protocol/dist/index.js'];

/** Why a build is needed, or undefined when the last build matches the sources. */
export function staleReason() {
  for (const o of OUTPUTS) if (!existsSync(path.join(ROOT, o))) return `${o} is missing`;
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return 'no build stamp';
  }
  return stamp.fingerprint === fingerprint() ? undefined : 'sources changed since the last build';
}
