/**
 * What `flow-plugin build-go` needs to know about a Go plugin package before building it: its
 * import path, which API it is written for (Gotify's or the seed's), and its package clause.
 * Read from the files, never by running anything.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The two families of exported entry points a plugin package may have. */
export interface EntryPoints {
  api: 'gotify' | 'flow';
  info: string;
  instance: string;
}

export const GOTIFY_ENTRY: EntryPoints = { api: 'gotify', info: 'GetGotifyPluginInfo', instance: 'NewGotifyPluginInstance' };
export const FLOW_ENTRY: EntryPoints = { api: 'flow', info: 'GetFlowPluginInfo', instance: 'NewFlowPluginInstance' };

export interface GoPackage {
  dir: string;
  /** The import path to copy it to under $GOPATH/src: go.mod's module path, or one chosen for it. */
  importPath: string;
  entry: EntryPoints;
  /** Non-test .go files of the package folder itself. */
  files: string[];
}

export class GoPackageError extends Error {}

/** The path a package without go.mod is built under (packages that import their own subpackages have a go.mod). */
export const fallbackImportPath = (dir: string): string => `flow.local/${path.basename(path.resolve(dir)).replace(/[^A-Za-z0-9._-]/g, '-') || 'plugin'}`;

export function readGoPackage(dir: string): GoPackage {
  if (!existsSync(dir)) throw new GoPackageError(`${dir}: no such folder`);
  const files = readdirSync(dir).filter((name) => name.endsWith('.go') && !name.endsWith('_test.go')).sort();
  if (files.length === 0) throw new GoPackageError(`${dir}: no .go files: give the folder of the plugin's main package`);
  const sources = files.map((name) => stripComments(readFileSync(path.join(dir, name), 'utf8')));
  const packages = new Set(sources.map((source) => /^\s*package\s+(\w+)/m.exec(source)?.[1]).filter(Boolean));
  if (!packages.has('main')) {
    throw new GoPackageError(`${dir}: the package is "${[...packages].join('", "')}", not "main": a Go plugin is a main package (Gotify builds it with -buildmode=plugin)`);
  }
  const declares = (name: string) => sources.some((source) => new RegExp(`^(?:func|var)\\s+${name}\\b`, 'm').test(source));
  const importsFlowApi = sources.some((source) => source.includes('"github.com/Flow/plugin-api"'));
  const entry = declares(FLOW_ENTRY.info) || declares(FLOW_ENTRY.instance) || (importsFlowApi && !declares(GOTIFY_ENTRY.info)) ? FLOW_ENTRY : GOTIFY_ENTRY;
  return { dir, importPath: modulePath(dir) ?? fallbackImportPath(dir), entry, files };
}

/** go.mod's `module` line, if the folder has one. */
export function modulePath(dir: string): string | undefined {
  const goMod = path.join(dir, 'go.mod');
  if (!existsSync(goMod)) return undefined;
  const match = /^\s*module\s+("?)([^\s"]+)\1/m.exec(stripComments(readFileSync(goMod, 'utf8')));
  return match?.[2];
}

/** Go source without comments, so a commented-out function is not mistaken for one. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}
