/**
 * Gotify's configuration, accepted as is: a Gotify `config.yml` and Gotify's `GOTIFY_*`
 * environment variables work unchanged (a Gotify compose file works by changing the image).
 * Keys Flow shares with Gotify are read under both names (`FLOW_SERVER_PORT` wins over
 * `GOTIFY_SERVER_PORT`); the Gotify keys below have no meaning in Flow and are named, with the
 * reason, in one warning at start instead of being dropped silently.
 */

/** Gotify config keys (dotted, as in its config.yml) that Flow does not use, and why. */
// None at the moment: `database.*` became Flow's own keys (leveldb | postgres), and the server
// keys all have a meaning. A Gotify key Flow cannot honour gets a row here with its reason.
const UNSUPPORTED: readonly { prefix: string; reason: string }[] = [];

/**
 * Let's Encrypt sub-keys are harmless while `server.ssl.letsencrypt.enabled` is false (Gotify's
 * example config lists them all); enabling it is refused by that key's own check.
 */
const SILENT_PREFIXES = ['server.ssl.letsencrypt.'];

const matches = (key: string, prefix: string) => key === prefix || key.startsWith(prefix + '.');

/** The env name Gotify gives a dotted key: `server.ssl.port` → `GOTIFY_SERVER_SSL_PORT`. */
export const gotifyEnvName = (key: string): string => 'GOTIFY_' + key.toUpperCase().replace(/\./g, '_');

/** True for values that set nothing: Gotify's example config leaves unused keys empty. */
function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && Object.keys(value as object).length === 0);
}

/**
 * Describes a config-file key Flow does not know, or undefined when it should pass without a
 * word (an empty value, or a disabled Let's Encrypt's settings).
 */
export function describeUnknownFileKey(key: string, value: unknown): string | undefined {
  if (SILENT_PREFIXES.some((p) => key.startsWith(p))) return undefined;
  const known = UNSUPPORTED.find((u) => matches(key, u.prefix));
  if (known) return isEmpty(value) ? undefined : `${key} (${known.reason})`;
  return isEmpty(value) ? undefined : `${key} (unknown key)`;
}

/**
 * `GOTIFY_*` variables that no Flow key reads. `readNames` are the Gotify names Flow did read.
 * Gotify's own names map one-to-one onto dotted keys, so the reason is found by turning the
 * name back into a key prefix.
 */
export function describeUnknownGotifyEnv(env: NodeJS.ProcessEnv, readNames: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('GOTIFY_') || readNames.has(name) || isEmpty(env[name])) continue;
    if (SILENT_PREFIXES.some((p) => name.startsWith(gotifyEnvName(p.slice(0, -1)) + '_'))) continue;
    const known = UNSUPPORTED.find((u) => name === gotifyEnvName(u.prefix) || name.startsWith(gotifyEnvName(u.prefix) + '_'));
    out.push(`${name} (${known ? known.reason : 'unknown variable'})`);
  }
  return out;
}
