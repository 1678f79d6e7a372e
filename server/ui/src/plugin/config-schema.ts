import { ApiError, request } from '../common/api';

/**
 * The part of JSON Schema the configuration form understands. A plugin may declare more (`oneOf`, patterns,
 * formats…); the server validates all of it, and the form shows what it cannot edit as "edit in YAML".
 */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  writeOnly?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema | JsonSchema[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
}

/** One violation of the schema, as the server reports a rejected config (`issues` of the 400 body). */
export interface ConfigIssue {
  /** JSON Pointer into the configuration (`/feeds/0/url`; `""` for the whole document). */
  path: string;
  message: string;
}

/** The plugin's configuration schema, or `null` when it declares none (404) and only YAML is offered. */
export async function getConfigSchema(id: number): Promise<JsonSchema | null> {
  try {
    const schema = await request<unknown>('GET', `plugin/${id}/configschema`);
    return schema && typeof schema === 'object' ? (schema as JsonSchema) : null;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** The `issues` of a 400 answer to a config save, or `[]` when it has none (bad YAML, refused by the plugin). */
export function issuesOf(err: unknown): ConfigIssue[] {
  if (!(err instanceof ApiError) || !Array.isArray(err.body?.issues)) return [];
  return (err.body.issues as unknown[]).flatMap((item) => {
    const issue = item as Partial<ConfigIssue>;
    return typeof issue?.path === 'string' && typeof issue.message === 'string' ? [{ path: issue.path, message: issue.message }] : [];
  });
}

export type PathSegment = string | number;

/** RFC 6901: `~` and `/` inside a key are escaped. */
export function toPointer(path: PathSegment[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Follows a local `$ref` (`#/$defs/feed`, `#/definitions/feed`); anything else is returned as it is. */
export function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema;
  for (let depth = 0; current.$ref && depth < 20; depth++) {
    const ref = current.$ref;
    if (!ref.startsWith('#/')) return current;
    let target: unknown = root;
    for (const raw of ref.slice(2).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      target = target && typeof target === 'object' ? (target as Record<string, unknown>)[key] : undefined;
    }
    if (!target || typeof target !== 'object') return current;
    const { $ref: _ref, ...rest } = current;
    current = { ...(target as JsonSchema), ...rest };
  }
  return current;
}

/** The schema's one type (`["string", "null"]` is a string that may be left out), or undefined. */
export function typeOf(schema: JsonSchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null');
  if (schema.type) return schema.type;
  if (schema.properties) return 'object';
  if (schema.enum) return typeof schema.enum[0];
  return undefined;
}

/** Whether the form has a field for this schema (otherwise it is edited in YAML). */
export function editable(schema: JsonSchema, root: JsonSchema): boolean {
  const s = resolve(schema, root);
  const type = typeOf(s);
  if (type === 'object') return !!s.properties;
  if (type === 'array') {
    if (!s.items || Array.isArray(s.items)) return false;
    const item = resolve(s.items, root);
    const itemType = typeOf(item);
    return itemType === 'object' ? !!item.properties : itemType === 'string' || itemType === 'number' || itemType === 'integer';
  }
  return type === 'string' || type === 'number' || type === 'integer' || type === 'boolean';
}

/**
 * Whether an issue's pointer lands on a field of the form; the others are listed above the form, so
 * that no error goes unseen.
 */
export function hasField(root: JsonSchema, pointer: string): boolean {
  if (pointer === '') return false;
  const segments = pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let schema = resolve(root, root);
  for (const segment of segments) {
    if (!editable(schema, root)) return false;
    const type = typeOf(schema);
    if (type === 'object' && schema.properties && segment in schema.properties) schema = resolve(schema.properties[segment]!, root);
    else if (type === 'array' && /^\d+$/.test(segment) && schema.items && !Array.isArray(schema.items)) schema = resolve(schema.items, root);
    else return false;
  }
  return editable(schema, root);
}

/** A new array item: the schema's default, or an object of its properties' defaults, or an empty value. */
export function newItem(schema: JsonSchema, root: JsonSchema): unknown {
  const s = resolve(schema, root);
  if (s.default !== undefined) return structuredClone(s.default);
  const type = typeOf(s);
  if (type === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, prop] of Object.entries(s.properties ?? {})) {
      const p = resolve(prop, root);
      if (p.default !== undefined) out[key] = structuredClone(p.default);
      else if (s.required?.includes(key) && typeOf(p) === 'string') out[key] = '';
    }
    return out;
  }
  if (type === 'number' || type === 'integer') return 0;
  if (type === 'boolean') return false;
  return '';
}
