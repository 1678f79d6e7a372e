import { routeOutputToStderr } from './log.js';

/**
 * The environment variable a Flow host sets when it launches a plugin: the protocol versions it
 * speaks, comma separated ("1.0"). Without it a plugin explains itself instead of waiting for
 * frames that will never come (go-plugin's magic cookie: a UX feature, not a security measure).
 */
export const LAUNCH_ENV = 'FLOW_PLUGIN_PROTOCOL';

/** The real `process.stdout.write`, captured when the kit is first imported, before anything replaces it. */
export const writeStdout = process.stdout.write.bind(process.stdout) as (data: string, callback?: () => void) => boolean;

/** The process that started the plugin, read as early as possible: it may die while the plugin starts. */
export const launchParentPid = process.ppid;

let guarded = false;

/** Routes console and stray stdout writes to stderr (see routeOutputToStderr). Safe to call twice. */
export function guardStdout(): void {
  if (guarded) return;
  guarded = true;
  routeOutputToStderr();
}

// A plugin's own module body runs after the kit is imported but before it calls runPlugin: a
// console.log there would corrupt the first frame, so a host-launched plugin is guarded now.
// (Not on `--stdio` in argv: tools importing the kit, like `flow-plugin info -- plugin --stdio`, print to stdout.)
if (process.env[LAUNCH_ENV] !== undefined) guardStdout();
