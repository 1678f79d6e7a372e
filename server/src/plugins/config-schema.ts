import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parseConfigYaml, versionAtLeast } from '@flow/protocol';
import { stringify as stringifyYaml } from 'yaml';
import { MAX_NESTING, checkValueDepth, yamlDepth } from '../parse/bounded.js';

/** One violation of a plugin's config schema: a JSON Pointer to the value, and what is wrong. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** Validates a parsed configuration; [] when it conforms. */
export type ConfigValidator = (value: unknown) => ConfigIssue[];

/**
 * Largest schema the server compiles. A schema is compiled into code in the server process:
 * an administrator installs the plugin, but its schema should not cost the server megabytes.
 */
const MAX_CONFIG_SCHEMA_BYTES = 256 * 1024;

/**
 * Compiles a plugin's `configSchema` (spec §7.6, draft 2020-12). Throws, with the reason, for a
 * schema that is not valid draft 2020-12 or cannot be compiled (an unresolvable `$ref`): the
 * plugin is then not started. Each schema gets its own Ajv, so `$id`s of two plugins never meet.
 *
 * Options: every violation at once (`allErrors`); unknown keywords allowed (JSON Schema ignores
 * them, and UIs use `x-` annotations); `format` an annotation, as draft 2020-12 has it.
 */
function compileConfigSchema(schema: unknown): { schema: Record<string, unknown>; validate: ConfigValidator } {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new Error('configSchema must be a JSON object');
  const size = Buffer.byteLength(JSON.stringify(schema));
  if (size > MAX_CONFIG_SCHEMA_BYTES) throw new Error(`configSchema is ${size} bytes; the limit is ${MAX_CONFIG_SCHEMA_BYTES}`);
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false, logger: false });
  let check;
  try {
    check = ajv.compile(schema);
  } catch (error) {
    throw new Error(`invalid configSchema: ${(error as Error).message}`);
  }
  return {
    schema: schema as Record<string, unknown>,
    validate: (value) => (check(value) ? [] : dedupe((check.errors ?? []).map(toIssue))),
  };
}

function toIssue(error: ErrorObject): ConfigIssue {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' || error.keyword === 'dependentRequired') {
    return { path: `${error.instancePath}/${pointerToken(String(params.missingProperty))}`, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties' || error.keyword === 'unevaluatedProperties') {
    const key = String(params.additionalProperty ?? params.unevaluatedProperty);
    return { path: `${error.instancePath}/${pointerToken(key)}`, message: 'is not an allowed key' };
  }
  if (error.keyword === 'enum') {
    const allowed = (params.allowedValues as unknown[] | undefined)?.map((v) => JSON.stringify(v)).join(', ');
    return { path: error.instancePath, message: allowed ? `must be one of ${allowed}` : (error.message ?? 'is not allowed') };
  }
  return { path: error.instancePath, message: error.message ?? `fails ${error.keyword}` };
}

function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export type CompiledConfigSchema = ReturnType<typeof compileConfigSchema>;

/**
 * The config schema of an `initialize` result, compiled: only from a configurer on a 1.1
 * connection (a 1.0 plugin's extra fields mean nothing, spec §14). Throws for a broken schema.
 */
export function adoptConfigSchema(result: { protocolVersion: string; configSchema?: unknown }, capabilities: ReadonlySet<string>): CompiledConfigSchema | undefined {
  if (result.configSchema === undefined || !versionAtLeast(result.protocolVersion, '1.1') || !capabilities.has('configurer')) return undefined;
  return compileConfigSchema(result.configSchema);
}

/** A configuration the host refuses before the plugin sees it (spec §7.6): why, and each schema violation. */
export interface ConfigRefusal {
  message: string;
  issues?: ConfigIssue[];
}

type ConfigCheck = { ok: true; value: Record<string, unknown> } | { ok: false; refusal: ConfigRefusal };

/**
 * Checks remembered per schema and text. At start every instance of a plugin checks its stored
 * config, and most users keep the same text (the defaults): 10,000 instances then parse a handful
 * of texts, not 10,000 (YAML parsing was the largest share of a warm start's CPU). Bounded in
 * count and text size, so a user's many large configs cost nothing to remember. The values are
 * shared between callers, so they are frozen: a change would throw instead of reaching other users.
 */
const MEMO_ENTRIES = 256;
const MEMO_TEXT_BYTES = 4096;
const memos = new WeakMap<object, Map<string, ConfigCheck>>();
const NO_SCHEMA = {};

/**
 * The host's side of spec §7.6: parse under the YAML 1.2 core schema, require a mapping, validate
 * against the plugin's schema. Returns the JSON form for `config/validateAndSet`, or the refusal.
 */
export function checkConfig(configSchema: CompiledConfigSchema | undefined, text: string): ConfigCheck {
  if (text.length > MEMO_TEXT_BYTES) return checkConfigText(configSchema, text);
  let memo = memos.get(configSchema ?? NO_SCHEMA);
  if (!memo) memos.set(configSchema ?? NO_SCHEMA, (memo = new Map()));
  let check = memo.get(text);
  if (!check) {
    check = checkConfigText(configSchema, text);
    if (memo.size < MEMO_ENTRIES) memo.set(text, deepFreeze(check));
  }
  return check;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function checkConfigText(configSchema: CompiledConfigSchema | undefined, text: string): ConfigCheck {
  // Bounded before parsing: a few thousand levels overflow the parser's stack (parse/bounded.ts).
  if (yamlDepth(text, MAX_NESTING) > MAX_NESTING) return { ok: false, refusal: { message: `plugin config nested too deeply: the limit is ${MAX_NESTING} levels` } };
  const parsed = parseConfigYaml(text);
  if (!parsed.ok) return { ok: false, refusal: { message: parsed.issue.message } };
  const issues = configSchema?.validate(parsed.value) ?? [];
  if (issues.length > 0) {
    const listed = issues.map((issue) => `${issue.path || '(top level)'} ${issue.message}`).join('; ');
    return { ok: false, refusal: { message: `the configuration does not match the plugin's schema: ${listed}`, issues } };
  }
  return { ok: true, value: parsed.value };
}

/** `config/validateAndSet` params: the JSON form goes only to a 1.1 plugin. */
export function validateAndSetParams(protocolVersion: string | undefined, instanceId: string, config: string, value: Record<string, unknown>): { instanceId: string; config: string; value?: Record<string, unknown> } {
  return versionAtLeast(protocolVersion, '1.1') ? { instanceId, config, value } : { instanceId, config };
}

/**
 * The default configuration text of a `config/default` result: the YAML text, or (1.1) the JSON
 * value rendered as YAML. Throws when the plugin sent neither.
 */
export function defaultConfigText(result: { config?: string; value?: Record<string, unknown> }): string {
  if (typeof result.config === 'string') return result.config;
  if (result.value !== undefined) {
    checkValueDepth(result.value, { what: 'default config value' });
    return stringifyYaml(result.value, { version: '1.2' });
  }
  throw new Error('config/default answered neither `config` (YAML text) nor `value` (JSON)');
}
