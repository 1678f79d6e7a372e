import { routeOutputToStderr } from './log.js';

/**
 * The environment variable a Flow host sets when it launches a plugin: the protocol versions it
 * speaks, comma separated ("1.0"). Without it a plugin explains itself instead of waiting for
 * frames that will never come (go-plugin's magic cookie: a UX feature, not a security measure).
 */
export const LAUNCH_ENV = 'FLOW_PLUGIN_PROTOCOL';

/** The real `process.stdout.write`, captured when the kit is first imported, before anything replaces it. */
export const writeStdout = process.stdout.write.bind(process.stdout) as (data: string, callback?: () => void) => boolean;

let guarded = false;

/** Routes console and stray stdout writes to stderr (see routeOutputToStderr). Safe to call twice. */
export function guardStdout(): void {
  if (guarded) return;
  guarded = true;
  routeOutputToStderr();
}

// A plugin's own module body runs after the kit is imported but before it calls runPlugin: a
// console.log there would corrupt the first frame, so a host-launched plugin is guarded now.
if (process.env[LAUNCH_ENV] !== undefined || process.argv.includes('--stdio')) guardStdout();
