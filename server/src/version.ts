import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { SERVER_ROOT } from './paths.js';

const pkg = JSON.parse(readFileSync(path.join(SERVER_ROOT, 'package.json'), 'utf8')) as { version: string };

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
