import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the server's own files are. The same code runs from the repository (`server/dist/…`,
 * tsc output) and from the installed package (`<package>/dist/…`, one bundled file), so paths
 * are found from the package root, the nearest folder up with a package.json.
 */
function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${start}`);
    dir = up;
  }
}

export const SERVER_ROOT: string = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

/**
 * The plugins shipped with Flow: `<package>/plugins` in the installed package and the
 * container, `<repo>/plugins` in a checkout (the workspace folders, built in place).
 */
export function bundledPluginsDir(): string | undefined {
  for (const dir of [path.join(SERVER_ROOT, 'plugins'), path.join(SERVER_ROOT, '..', 'plugins')]) {
    if (existsSync(dir)) return dir;
  }
  return undefined;
}
