import { SUPPORTED_PROTOCOL_VERSIONS } from '@flow/protocol';

/**
 * The environment a plugin process gets: an allowlist of the server's variables, then the
 * manifest's `env`, then the launch marker and the run id. Default-deny, like the MCP SDK's stdio client:
 * the server's own settings (`FLOW_*`: the admin password, ...) and whatever else its
 * environment holds (cloud credentials, tokens) never reach plugin code.
 *
 * Allowed: what programs need to run and to format text (PATH, HOME, USER, LOGNAME, SHELL, LANG,
 * LANGUAGE, LC_*, TZ, TMPDIR), and where to find CA certificates (SSL_CERT_FILE,
 * SSL_CERT_DIR, NODE_EXTRA_CA_CERTS). Not allowed: NODE_OPTIONS (a `--inspect` or
 * `--require` meant for the server would apply to every Node plugin) and the proxy
 * variables (they can carry passwords); a manifest sets them when a plugin needs them.
 */
const ALLOWED = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS']);

/**
 * Set in every plugin's environment to the protocol versions the host speaks ("1.1"):
 * plugin-kit serves the protocol when it is present and prints a short explanation when it
 * is not (someone ran the plugin in a terminal). Informational: `initialize` negotiates.
 */
const LAUNCH_MARKER = 'FLOW_PLUGIN_PROTOCOL';

/**
 * Set to an id of this launch (`<data dir tag>.<server pid>.<n>`, orphans.ts). Everything the
 * plugin starts inherits it, even a daemon that left the plugin's process group with
 * `setsid`: it is how the host finds and kills those when the plugin stops, and at the next
 * start after the server itself died.
 */
export const RUN_VAR = 'FLOW_PLUGIN_RUN';

export function pluginEnv(serverEnv: NodeJS.ProcessEnv, manifestEnv: Record<string, string>, run: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(serverEnv)) {
    if (value !== undefined && (ALLOWED.has(name) || name.startsWith('LC_'))) env[name] = value;
  }
  Object.assign(env, manifestEnv);
  env[LAUNCH_MARKER] = SUPPORTED_PROTOCOL_VERSIONS.join(',');
  env[RUN_VAR] = run;
  return env;
}
