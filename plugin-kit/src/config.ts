/**
 * The user's config merged onto the plugin's default config: keys the user left out keep their
 * defaults, recursively through nested mappings; lists and scalars the user wrote replace the
 * default whole (merging two feed lists item by item would invent entries nobody wrote).
 * Throws, with a message for the user, when the user's YAML is not a mapping but the default is.
 */
export function mergeConfig(defaults: unknown, user: unknown): unknown {
  if (user === null || user === undefined) return structuredClone(defaults ?? {});
  if (!isPlainObject(defaults)) return user;
  if (!isPlainObject(user)) throw new Error(`config must be a mapping of keys to values, not ${describeValue(user)}`);
  const merged: Record<string, unknown> = structuredClone(defaults);
  for (const [key, value] of Object.entries(user)) {
    merged[key] = isPlainObject(merged[key]) && isPlainObject(value) ? mergeConfig(merged[key], value) : value;
  }
  return merged;
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
