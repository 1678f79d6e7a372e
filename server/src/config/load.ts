import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { FlowError } from '../errors.js';
import { describeUnknownFileKey, describeUnknownGotifyEnv, gotifyEnvName } from './gotify.js';
import { CONFIG_KEYS, envName, flagName, type ConfigKey, type ConfigKeyDef, type FlowConfig } from './keys.js';

/** Where a value came from; used in error messages so the user knows what to fix. */
type Source = 'default' | 'config file' | 'env' | 'gotify env' | 'flag' | 'option';

const defs: readonly ConfigKeyDef[] = CONFIG_KEYS;
const byKey = new Map(defs.map((d) => [d.key, d]));

function invalid(def: ConfigKeyDef, source: Source, detail: string): FlowError {
  const where =
    source === 'env'
      ? ` (env ${envName(def)})`
      : source === 'gotify env'
        ? ` (env ${def.gotifyEnv ?? gotifyEnvName(def.key)})`
        : source === 'flag' ? ` (flag ${flagName(def)})` : ` (${source})`;
  return new FlowError('FLOW_ERR_CONFIG_INVALID', `invalid value for ${def.key}${where}: ${detail}`);
}

/**
 * Whether an env or flag string is a list written in YAML, and if so what the error says when it
 * does not parse. Gotify's env form of a list is a YAML sequence
 * (GOTIFY_SERVER_CORS_ALLOWORIGINS="- a\n- b") or, as documented, a YAML flow sequence
 * (GOTIFY_SERVER_TRUSTEDPROXIES=[127.0.0.1,10.0.0.0/8]), which JSON arrays also are.
 */
function yamlListForm(s: string): string | undefined {
  if (s.startsWith('- ') || s === '-') return 'expected a YAML list of strings ("- a\\n- b"), a JSON array or a comma-separated list';
  if (s.startsWith('[')) return 'expected a YAML or JSON list of strings ([a, b]) or a comma-separated list';
  return undefined;
}

/**
 * Parses and checks one value. Strings from env/flags are coerced; YAML and programmatic
 * values must already have the right type (a YAML `port: "80"` is accepted as well, as
 * Gotify's loader does).
 */
export function parseValue(def: ConfigKeyDef, raw: unknown, source: Source): unknown {
  let value: unknown;
  switch (def.type) {
    case 'string':
      if (raw === null || raw === undefined) value = '';
      else if (typeof raw === 'string' || typeof raw === 'number') value = String(raw);
      else throw invalid(def, source, `expected a string, got ${JSON.stringify(raw)}`);
      break;
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) throw invalid(def, source, `expected an integer, got ${JSON.stringify(raw)}`);
      if (def.min !== undefined && n < def.min) throw invalid(def, source, `${n} is below the minimum ${def.min}`);
      if (def.max !== undefined && n > def.max) throw invalid(def, source, `${n} is above the maximum ${def.max}`);
      value = n;
      break;
    }
    case 'bool':
      if (typeof raw === 'boolean') value = raw;
      else if (typeof raw === 'string' && /^(true|1|yes|on)$/i.test(raw)) value = true;
      else if (typeof raw === 'string' && /^(false|0|no|off)$/i.test(raw)) value = false;
      else throw invalid(def, source, `expected true or false, got ${JSON.stringify(raw)}`);
      break;
    case 'list':
      if (raw === null || raw === undefined) value = [];
      else if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) value = [...raw];
      else if (typeof raw === 'string') {
        const s = raw.trim();
        const expected = yamlListForm(s);
        if (expected !== undefined) {
          let parsed: unknown;
          try {
            parsed = parseYaml(s);
          } catch {
            throw invalid(def, source, expected);
          }
          return parseValue(def, parsed, source);
        }
        value = s === '' ? [] : s.split(',').map((x) => x.trim()).filter((x) => x !== '');
      } else throw invalid(def, source, `expected a list of strings, got ${JSON.stringify(raw)}`);
      break;
    case 'map':
      if (raw === null || raw === undefined || raw === '') value = {};
      else if (typeof raw === 'string') {
        // Gotify's env form is a YAML mapping: GOTIFY_SERVER_RESPONSEHEADERS='{X-Custom-Header: "custom value", x-other: value}'.
        let parsed: unknown;
        try {
          parsed = parseYaml(raw);
        } catch {
          throw invalid(def, source, 'expected a YAML or JSON mapping, e.g. {X-Custom-Header: "custom value"}');
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(def, source, 'expected a YAML or JSON mapping, e.g. {X-Custom-Header: "custom value"}');
        return parseValue(def, parsed, source);
      } else if (typeof raw === 'object' && !Array.isArray(raw)) {
        const map: Record<string, string> = {};
        for (const [k, v] of Object.entries(raw)) {
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') map[k] = String(v);
          else throw invalid(def, source, `the value of ${k} must be a string, got ${JSON.stringify(v)}`);
        }
        value = map;
      } else throw invalid(def, source, `expected a mapping of names to strings, got ${JSON.stringify(raw)}`);
      break;
  }
  const problem = def.check?.(value as never);
  if (problem) throw invalid(def, source, problem);
  return value;
}

/** Flattens nested YAML (`server: {port: 80}`) into dotted keys; lists stay values. */
function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k.toLowerCase();
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !byKey.has(key)) flatten(v as Record<string, unknown>, key + '.', out);
    else out[key] = v;
  }
  return out;
}

export interface ConfigSources {
  /** Parsed config.yml contents (nested object) and its path for messages. */
  file?: { path: string; data: unknown };
  env?: NodeJS.ProcessEnv;
  /** Raw flag strings by key. */
  flags?: Partial<Record<ConfigKey, string>>;
  /** Typed values from code (startFlow options); they win over everything else. */
  overrides?: Partial<FlowConfig>;
}

export interface ResolvedConfig {
  config: FlowConfig;
  /**
   * Settings Flow ignored, each named with the reason: config.yml keys Flow does not know or
   * support (a Gotify config carries `database.*`, …) and `GOTIFY_*` variables no key reads.
   * The bin logs them in one warning.
   */
  ignored: string[];
}

/** Merges defaults → config file → env → flags → overrides; throws FLOW_ERR_CONFIG_INVALID naming the key. */
export function resolveConfig(sources: ConfigSources): ResolvedConfig {
  const out: Record<string, unknown> = {};
  for (const def of defs) out[def.key] = parseValue(def, def.default, 'default');

  const ignored: string[] = [];
  if (sources.file && sources.file.data !== null && sources.file.data !== undefined) {
    if (typeof sources.file.data !== 'object' || Array.isArray(sources.file.data)) {
      throw new FlowError('FLOW_ERR_CONFIG_INVALID', `${sources.file.path}: expected a YAML mapping at the top level`);
    }
    for (const [key, v] of Object.entries(flatten(sources.file.data as Record<string, unknown>))) {
      const def = byKey.get(key);
      if (def) out[key] = parseValue(def, v, 'config file');
      else {
        const why = describeUnknownFileKey(key, v);
        if (why) ignored.push(why);
      }
    }
  }
  const env = sources.env ?? {};
  // Gotify's names first, so FLOW_* wins when both are set.
  const gotifyRead = new Set<string>();
  for (const def of defs) {
    const name = def.gotifyEnv ?? gotifyEnvName(def.key);
    const v = env[name];
    if (v === undefined) continue;
    gotifyRead.add(name);
    out[def.key] = parseValue(def, v, 'gotify env');
  }
  ignored.push(...describeUnknownGotifyEnv(env, gotifyRead));
  for (const def of defs) {
    const v = env[envName(def)];
    if (v !== undefined) out[def.key] = parseValue(def, v, 'env');
  }
  for (const [key, v] of Object.entries(sources.flags ?? {})) {
    const def = byKey.get(key);
    if (def && v !== undefined) out[key] = parseValue(def, v, 'flag');
  }
  for (const [key, v] of Object.entries(sources.overrides ?? {})) {
    const def = byKey.get(key);
    if (!def) throw new FlowError('FLOW_ERR_CONFIG_INVALID', `unknown config key ${key}`);
    if (v !== undefined) out[key] = parseValue(def, v, 'option');
  }
  return { config: out as FlowConfig, ignored };
}

/** Reads and parses a YAML file; a syntax error is a config error, not a crash. */
export function readConfigFile(file: string): { path: string; data: unknown } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FlowError('FLOW_ERR_CONFIG_INVALID', `cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    return { path: file, data: parseYaml(text) };
  } catch (err) {
    throw new FlowError('FLOW_ERR_CONFIG_INVALID', `${file} is not valid YAML: ${(err as Error).message}`);
  }
}

/** The `flow` command line; `--help` lists every key with its env var and default. */
export function buildCommand(version: string): Command {
  const program = new Command('flow')
    .description('Flow: a self-hosted push-notification server, wire-compatible with Gotify 2.9.1')
    .version(version)
    .option('-c, --config <path>', 'YAML config file (default: ./config.yml when it exists)')
    .allowExcessArguments(false)
    .showHelpAfterError();
  for (const def of defs) {
    const shown = def.secret ? '(secret)' : JSON.stringify(def.default);
    program.addOption(
      new Option(`${flagName(def)} <value>`, `${def.key}: ${def.description} [env ${envName(def)} or ${def.gotifyEnv ?? gotifyEnvName(def.key)}, default ${shown}]`),
    );
  }
  return program;
}

export interface LoadedConfig extends ResolvedConfig {
  configFile?: string;
}

/**
 * The full CLI path: flags (commander; `--help`/`--version` print and exit), then
 * `--config PATH` or ./config.yml, then env. Nothing is written to disk here.
 */
export function loadConfig(opts: { argv: string[]; env: NodeJS.ProcessEnv; cwd: string; version: string }): LoadedConfig {
  const program = buildCommand(opts.version);
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.parse(opts.argv, { from: 'user' });
  const o = program.opts<Record<string, string | undefined>>();

  const flags: Partial<Record<ConfigKey, string>> = {};
  for (const def of defs) {
    const attr = new Option(`${flagName(def)} <value>`).attributeName();
    if (o[attr] !== undefined) flags[def.key as ConfigKey] = o[attr];
  }
  let file: { path: string; data: unknown } | undefined;
  if (o.config !== undefined) file = readConfigFile(path.resolve(opts.cwd, o.config));
  else if (existsSync(path.join(opts.cwd, 'config.yml'))) file = readConfigFile(path.join(opts.cwd, 'config.yml'));
  const resolved = resolveConfig({ file, env: opts.env, flags });
  return { ...resolved, configFile: file?.path };
}
