import { parseDocument } from 'yaml';

/** The YAML schema the host parses configurations with (spec §7.6): YAML 1.2, core schema. */
export const CONFIG_YAML_SCHEMA = 'YAML 1.2 core schema';

export interface ConfigYamlIssue {
  /** A sentence for the user: what is wrong and, for syntax, where (line and column). */
  message: string;
}

/**
 * Parses a configuration the way the spec says a host does (§7.6), so that every host and kit
 * turns the same text into the same JSON:
 * - YAML 1.2, core schema (`yes`/`on` are strings, `0o17` is octal, no `<<` merge keys), one
 *   document, duplicate keys refused, aliases resolved (at most 100);
 * - the empty document (or only comments) is `{}`; any other top level but a mapping is refused;
 * - keys that are not strings (`1:`, `true:`, `null:`) become their JSON text ("1", "true",
 *   "null"); a mapping or list used as a key is refused, and so are two keys that become equal;
 * - a value JSON cannot hold (`.inf`, `.nan`, an integer beyond ±(2^53−1)) or a tag the core
 *   schema does not know (`!!binary`, `!custom`) is refused.
 */
export function parseConfigYaml(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; issue: ConfigYamlIssue } {
  let doc;
  try {
    doc = parseDocument(text, { version: '1.2', schema: 'core', merge: false, uniqueKeys: true, prettyErrors: true, strict: true });
  } catch (error) {
    return fail(`invalid YAML: ${firstLine((error as Error).message)}`);
  }
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) return fail(`invalid YAML: ${firstLine(problem.message)}`);
  let js: unknown;
  try {
    js = doc.toJS({ mapAsMap: true, maxAliasCount: 100 });
  } catch (error) {
    return fail(`invalid YAML: ${firstLine((error as Error).message)}`);
  }
  if (js === null || js === undefined) return { ok: true, value: {} };
  if (!(js instanceof Map)) return fail(`the configuration must be a YAML mapping (key: value lines), not ${describe(js)}`);
  try {
    return { ok: true, value: toJson(js, '') as Record<string, unknown> };
  } catch (error) {
    return fail((error as Error).message);
  }
}

function toJson(value: unknown, path: string): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [rawKey, item] of value) {
      const key = keyText(rawKey, path);
      if (Object.hasOwn(out, key)) throw new Error(`the key "${key}" appears twice at ${path || 'the top level'}`);
      out[key] = toJson(item, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((item, index) => toJson(item, `${path}/${index}`));
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path || 'the value'}: ${value} has no JSON form; write a finite number`);
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) throw new Error(`${path}: the integer ${value} is beyond ±(2^53−1); quote it to keep it as text`);
    return value;
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') throw new Error(`${path}: the integer ${value} is beyond ±(2^53−1); quote it to keep it as text`);
  throw new Error(`${path}: ${describe(value)} has no JSON form`);
}

function keyText(key: unknown, path: string): string {
  if (typeof key === 'string') return key;
  if (key === null || typeof key === 'number' || typeof key === 'boolean') return JSON.stringify(key);
  throw new Error(`${path || 'the top level'}: ${describe(key)} cannot be a key; keys are strings`);
}

function describe(value: unknown): string {
  if (value instanceof Map) return 'a mapping';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'a single string';
  if (value instanceof Uint8Array) return 'a binary value';
  return `a ${typeof value}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

function fail(message: string): { ok: false; issue: ConfigYamlIssue } {
  return { ok: false, issue: { message } };
}
