/**
 * The user's config merged onto the plugin's default config by top-level key (spec §7.6): a key
 * the user left out keeps its default; a key the user wrote replaces the default value whole,
 * lists and mappings included (merging two feed lists item by item would invent entries nobody
 * wrote). Keys the defaults lack are passed through, for the plugin to ignore or reject.
 * Throws, with a message for the user, when the user's YAML is not a mapping but the default is.
 */
export function mergeConfig(defaults: unknown, user: unknown): unknown {
  if (user === null || user === undefined) return structuredClone(defaults ?? {});
  if (!isPlainObject(defaults)) return user;
  if (!isPlainObject(user)) throw new Error(`config must be a mapping of keys to values, not ${describeValue(user)}`);
  return { ...structuredClone(defaults), ...user };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'a single string';
  return `a ${typeof value}`;
}
