import { readFileSync, statSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * GET /version. `version` is the Gotify API level Flow is wire-compatible with (clients such as
 * the Android app compare it); Flow's own version is in `commit`.
 */
export const VERSION_INFO = {
  version: '2.9.1',
  commit: `flow-${pkg.version}`,
  // The compiled file's time stands in for a build stamp (there is no separate release step).
  buildDate: statSync(new URL(import.meta.url)).mtime.toISOString(),
} as const;

export const FLOW_VERSION: string = pkg.version;
