import { createHmac } from 'node:crypto';

/**
 * Transcripts: a recorded host ↔ plugin session, one JSON object per line (spec/transcripts.md is
 * the normative description). The recorder in the server, `flow-plugin record`, `flow-plugin
 * replay` and the fake plugin all use this file, so what one writes the others read.
 *
 * Why replay works where LSP's attempt (recorded sessions compared whole) did not:
 * every value that legitimately differs between two runs (JSON-RPC ids, host-chosen instance
 * ids, ports, dates, message ids) is declared in the header as a volatile path, and the
 * comparison ignores or binds exactly those; everything else must be equal.
 */

/** Version of the transcript format itself (not of the protocol). */
export const TRANSCRIPT_FORMAT = 1;

/** Seen from the host: `send` = host → plugin, `recv` = plugin → host. */
export type TranscriptDirection = 'send' | 'recv';

/**
 * A declared volatile value.
 * - `any`: whatever value is there (the key may also be absent) is accepted;
 * - `bind`: the first value seen for a recorded value is remembered under `name`; every later
 *   occurrence of the same recorded value must be that same actual value (instance ids, message ids);
 * - `match`: the actual value must be a string matching `pattern` (a JavaScript regular expression).
 */
export interface VolatileRule {
  /** JSON pointer into the message; a `*` segment matches any key or index ("/params/headers/*"). */
  path: string;
  kind: 'any' | 'bind' | 'match';
  /** Only messages of this method, and responses to requests of it. Absent: every method. */
  method?: string;
  /** Only messages in this direction. Absent: both. */
  dir?: TranscriptDirection;
  /** `bind` only: the binding's name; rules sharing a name share the bindings. Default: the path. */
  name?: string;
  /** `match` only. */
  pattern?: string;
}

/** A secret replaced by a stable placeholder at recording time. */
export interface Redaction {
  /** Appears in the messages instead of the secret, e.g. "REDACTED-1". */
  placeholder: string;
  /** What was there ("webhook token", "config key secret"): never the value. */
  what: string;
}

export interface TranscriptHeader {
  flowTranscript: typeof TRANSCRIPT_FORMAT;
  /** The protocol version the session spoke (or meant to speak). */
  protocolVersion: string;
  /** RFC 3339 time the recording started. */
  recordedAt: string;
  /** Who recorded it: "flow-server 1.0.0", "flow-plugin record", "hand-written". */
  recordedBy: string;
  /** The plugin, when known (from its initialize result and launch command). */
  plugin?: { modulePath?: string; name?: string; version?: string; command?: string[] };
  description?: string;
  volatile: VolatileRule[];
  redactions: Redaction[];
  /**
   * Methods whose traffic from the live side is not checked: its notifications are skipped,
   * its requests are answered with `stubs[method]`, and the transcript's own entries for them
   * are not waited for. Recordings ignore `ping` (hosts ping on a timer); the conformance kit
   * ignores the plugin's storage, message and log calls, which differ from plugin to plugin.
   */
  ignore?: string[];
  /** Results for requests of ignored methods. An ignored request without a stub gets MethodNotFound. */
  stubs?: Record<string, unknown>;
}

/** A JSON-RPC message as it crossed the wire. */
export type WireMessage = Record<string, unknown>;

interface EntryBase {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  /** Milliseconds since the recording started. */
  t: number;
}

export interface MessageEntry extends EntryBase {
  dir: TranscriptDirection;
  msg: WireMessage;
  /** Hand-written transcripts only: other messages that are equally acceptable here. */
  accept?: WireMessage[];
}

/** The host closed the plugin's stdin without a word (a crashed host). */
export interface StdinClosedEntry extends EntryBase {
  event: 'stdin-closed';
}

/** The plugin process ended. */
export interface ExitEntry extends EntryBase {
  event: 'exit';
  code: number | null;
  signal?: string | null;
}

export type TranscriptEntry = MessageEntry | StdinClosedEntry | ExitEntry;

export interface Transcript {
  header: TranscriptHeader;
  entries: TranscriptEntry[];
}

/** A transcript that cannot be used: truncated, hand-edited into nonsense, not a transcript. */
export class TranscriptError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'TranscriptError';
  }
}

export const isMessageEntry = (entry: TranscriptEntry): entry is MessageEntry => 'dir' in entry;

/**
 * The placeholder every recorder writes for the n-th secret it meets, padded with "x" to the
 * secret's length so that a plugin's own checks ("at least 16 characters") judge the
 * placeholder as they judged the secret.
 */
export const placeholderFor = (n: number, length = 0): string => `REDACTED-${n}`.padEnd(length, 'x');

/**
 * The volatile values of every session, written into the header of every recording. A
 * hand-written transcript lists its own.
 */
export const DEFAULT_VOLATILE_RULES: readonly VolatileRule[] = [
  { path: '/params/host', method: 'initialize', kind: 'any' },
  { path: '/params/limits', method: 'initialize', kind: 'any' },
  { path: '/params/instanceId', kind: 'bind', name: 'instanceId' },
  { path: '/params/user/id', method: 'instance/create', kind: 'bind', name: 'userId' },
  { path: '/params/webhookBasePath', method: 'instance/create', kind: 'bind', name: 'webhookBasePath' },
  { path: '/params/location/host', method: 'display/get', kind: 'bind', name: 'httpHost' },
  { path: '/params/location/webhookBasePath', method: 'display/get', kind: 'bind', name: 'webhookBasePath' },
  { path: '/params/headers/host', method: 'webhook/request', kind: 'bind', name: 'httpHost' },
  { path: '/params/remoteAddress', method: 'webhook/request', kind: 'any' },
  { path: '/params/message/id', method: 'message/received', kind: 'bind', name: 'messageId' },
  { path: '/params/message/appid', method: 'message/received', kind: 'bind', name: 'applicationId' },
  { path: '/params/message/date', method: 'message/received', kind: 'any' },
  { path: '/result/id', method: 'message/send', kind: 'bind', name: 'messageId' },
];

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * Parses a transcript. Throws TranscriptError naming the first bad line: invalid JSON (a
 * truncated file ends in one), a missing header, an unknown entry, or a response whose request
 * is not in the transcript.
 */
export function parseTranscript(text: string): Transcript {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new TranscriptError(1, 'the transcript is empty; the first line must be the header');
  const header = parseHeader(parseLine(lines[0]!, 1, lines.length));
  const entries: TranscriptEntry[] = [];
  // Requests in flight per direction: a response must answer one of the other side's.
  const pending: Record<TranscriptDirection, Map<string, number>> = { send: new Map(), recv: new Map() };
  for (let i = 1; i < lines.length; i++) {
    const line = i + 1;
    const value = parseLine(lines[i]!, line, lines.length);
    if (value.event === 'redaction') {
      if (typeof value.placeholder !== 'string' || value.placeholder === '' || typeof value.what !== 'string') throw new TranscriptError(line, 'a redaction line needs "placeholder" and "what" strings');
      header.redactions.push({ placeholder: value.placeholder, what: value.what });
      continue;
    }
    const entry = parseEntry(value, line);
    if (isMessageEntry(entry)) checkPairing(entry, pending);
    entries.push(entry);
  }
  return { header, entries };
}

function parseLine(text: string, line: number, total: number): Record<string, unknown> {
  if (text.trim() === '') throw new TranscriptError(line, 'empty line (one JSON object per line, no blank lines)');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const hint = line === total ? ' (the file looks truncated)' : '';
    throw new TranscriptError(line, `not valid JSON${hint}: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TranscriptError(line, 'not a JSON object');
  return value as Record<string, unknown>;
}

function parseHeader(value: Record<string, unknown>): TranscriptHeader {
  if (value.flowTranscript !== TRANSCRIPT_FORMAT) {
    throw new TranscriptError(1, `not a Flow transcript header: "flowTranscript" must be ${TRANSCRIPT_FORMAT} (got ${JSON.stringify(value.flowTranscript)})`);
  }
  for (const key of ['protocolVersion', 'recordedAt', 'recordedBy'] as const) {
    if (typeof value[key] !== 'string') throw new TranscriptError(1, `header: "${key}" must be a string`);
  }
  if (!Array.isArray(value.volatile)) throw new TranscriptError(1, 'header: "volatile" must be an array of rules');
  if (!Array.isArray(value.redactions)) throw new TranscriptError(1, 'header: "redactions" must be an array');
  if (value.ignore !== undefined && (!Array.isArray(value.ignore) || !value.ignore.every((m) => typeof m === 'string'))) throw new TranscriptError(1, 'header: "ignore" must be an array of method names');
  if (value.stubs !== undefined && (typeof value.stubs !== 'object' || value.stubs === null || Array.isArray(value.stubs))) throw new TranscriptError(1, 'header: "stubs" must be an object: method → result');
  value.volatile.forEach((rule, index) => checkRule(rule, index));
  value.redactions.forEach((redaction, index) => {
    const r = redaction as Partial<Redaction> | null;
    if (typeof r?.placeholder !== 'string' || r.placeholder === '' || typeof r.what !== 'string') {
      throw new TranscriptError(1, `header: redactions[${index}] must be {placeholder, what} strings`);
    }
  });
  return value as unknown as TranscriptHeader;
}

function checkRule(rule: unknown, index: number): void {
  const r = rule as Partial<VolatileRule> | null;
  const where = `header: volatile[${index}]`;
  if (typeof r?.path !== 'string' || !r.path.startsWith('/')) throw new TranscriptError(1, `${where}: "path" must be a JSON pointer starting with "/"`);
  if (r.kind !== 'any' && r.kind !== 'bind' && r.kind !== 'match') throw new TranscriptError(1, `${where}: "kind" must be "any", "bind" or "match"`);
  if (r.dir !== undefined && r.dir !== 'send' && r.dir !== 'recv') throw new TranscriptError(1, `${where}: "dir" must be "send" or "recv"`);
  if (r.kind === 'match') {
    try {
      new RegExp(r.pattern ?? '');
    } catch (error) {
      throw new TranscriptError(1, `${where}: bad "pattern": ${(error as Error).message}`);
    }
    if (typeof r.pattern !== 'string') throw new TranscriptError(1, `${where}: a "match" rule needs a "pattern"`);
  }
}

function parseEntry(value: Record<string, unknown>, line: number): TranscriptEntry {
  if (typeof value.t !== 'number' || !(value.t >= 0)) throw new TranscriptError(line, '"t" (milliseconds since the start) must be a number >= 0');
  const t = value.t;
  if ('event' in value) {
    if (value.event === 'stdin-closed') return { line, t, event: 'stdin-closed' };
    if (value.event === 'exit') {
      if (value.code !== null && !Number.isInteger(value.code)) throw new TranscriptError(line, 'an exit event needs "code": an integer or null');
      return { line, t, event: 'exit', code: value.code as number | null, signal: (value.signal as string | null | undefined) ?? null };
    }
    throw new TranscriptError(line, `unknown event ${JSON.stringify(value.event)} (known: "stdin-closed", "exit", "redaction")`);
  }
  if (value.dir !== 'send' && value.dir !== 'recv') throw new TranscriptError(line, '"dir" must be "send" (host → plugin) or "recv" (plugin → host)');
  const msg = checkWireMessage(value.msg, line, 'msg');
  const entry: MessageEntry = { line, t, dir: value.dir, msg };
  if (value.accept !== undefined) {
    if (!Array.isArray(value.accept)) throw new TranscriptError(line, '"accept" must be an array of messages');
    entry.accept = value.accept.map((alternative, index) => checkWireMessage(alternative, line, `accept[${index}]`));
  }
  return entry;
}

function checkWireMessage(value: unknown, line: number, where: string): WireMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TranscriptError(line, `"${where}" must be a JSON-RPC message object`);
  const m = value as WireMessage;
  if (m.jsonrpc !== '2.0') throw new TranscriptError(line, `"${where}": "jsonrpc" must be "2.0"`);
  if ('method' in m) {
    if (typeof m.method !== 'string') throw new TranscriptError(line, `"${where}": "method" must be a string`);
  } else if (!('id' in m) || ('result' in m) === ('error' in m)) {
    throw new TranscriptError(line, `"${where}": neither a request/notification (method) nor a response (id + result or error)`);
  }
  if ('id' in m && m.id !== null && typeof m.id !== 'number' && typeof m.id !== 'string') throw new TranscriptError(line, `"${where}": "id" must be a number or a string`);
  return m;
}

function checkPairing(entry: MessageEntry, pending: Record<TranscriptDirection, Map<string, number>>): void {
  const m = entry.msg;
  if (typeof m.method === 'string') {
    if (!('id' in m)) return;
    const key = JSON.stringify(m.id);
    const earlier = pending[entry.dir].get(key);
    if (earlier !== undefined) throw new TranscriptError(entry.line, `request id ${key} is already in use by the unanswered request on line ${earlier}`);
    pending[entry.dir].set(key, entry.line);
    return;
  }
  if (m.id === null) return;
  const other: TranscriptDirection = entry.dir === 'send' ? 'recv' : 'send';
  const key = JSON.stringify(m.id);
  if (!pending[other].delete(key)) {
    throw new TranscriptError(entry.line, `response to id ${key}, but no ${other === 'send' ? 'host' : 'plugin'} request with that id is waiting for an answer earlier in the transcript`);
  }
}

/** One transcript line, as recorders write it (without the trailing newline). */
export function formatEntry(entry: Omit<MessageEntry, 'line'> | Omit<StdinClosedEntry, 'line'> | Omit<ExitEntry, 'line'>): string {
  if ('event' in entry) {
    return entry.event === 'exit'
      ? JSON.stringify({ t: entry.t, event: 'exit', code: entry.code, signal: entry.signal ?? null })
      : JSON.stringify({ t: entry.t, event: entry.event });
  }
  return JSON.stringify(entry.accept ? { t: entry.t, dir: entry.dir, msg: entry.msg, accept: entry.accept } : { t: entry.t, dir: entry.dir, msg: entry.msg });
}

// ---------------------------------------------------------------------------------------------
// Normalisation: comparing a recorded message with a live one

/** A difference between the recorded and the live message, for a readable diff. */
export interface Difference {
  /** JSON pointer ("" = the whole message). */
  path: string;
  expected: unknown;
  actual: unknown;
  /** Set when a binding or pattern failed rather than plain equality. */
  reason?: string;
}

/** Where a message sits, to pick the rules that apply to it. */
export interface MessageContext {
  dir: TranscriptDirection;
  /** The method of the message, or of the request a response answers. */
  method: string | undefined;
}

/**
 * Remembers what recorded volatile values stand for in this run: recorded instance id "3" is
 * live "7", placeholder REDACTED-1 is the live webhook token. Shared by every message of a
 * replay so that a value bound once means the same everywhere.
 */
export class Bindings {
  private readonly values = new Map<string, unknown>();

  /** The live value bound to `recorded` under `name`, if any. */
  get(name: string, recorded: unknown): { value: unknown } | undefined {
    const key = `${name}\u0000${JSON.stringify(recorded)}`;
    return this.values.has(key) ? { value: this.values.get(key) } : undefined;
  }

  /** The recorded values bound to `live` under `name` (normally one). */
  recordedFor(name: string, live: unknown): unknown[] {
    const prefix = `${name}\u0000`;
    const out: unknown[] = [];
    for (const [key, value] of this.values) if (key.startsWith(prefix) && deepEqual(value, live)) out.push(JSON.parse(key.slice(prefix.length)));
    return out;
  }

  set(name: string, recorded: unknown, live: unknown): void {
    this.values.set(`${name}\u0000${JSON.stringify(recorded)}`, live);
  }
}

/** The rules and redactions of one transcript, compiled for fast lookup. */
export class Normaliser {
  private readonly rules: Array<VolatileRule & { segments: string[] }>;
  private readonly placeholders: string[];
  private readonly placeholderPattern: RegExp | undefined;

  constructor(header: Pick<TranscriptHeader, 'volatile' | 'redactions'>) {
    this.rules = header.volatile.map((rule) => ({ ...rule, segments: splitPointer(rule.path) }));
    this.placeholders = header.redactions.map((r) => r.placeholder);
    this.placeholderPattern = this.placeholders.length
      ? new RegExp(this.placeholders.map(escapeRegExp).sort((a, b) => b.length - a.length).join('|'), 'g')
      : undefined;
  }

  /**
   * Compares a live message with the recorded one. Differences are returned, and bindings made
   * along the way are committed only when the whole message matches (a failed candidate must
   * not poison later matches). The envelope `id` is never compared: the replayer pairs
   * requests and responses itself.
   */
  compare(expected: WireMessage, actual: WireMessage, context: MessageContext, bindings: Bindings): Difference[] {
    const staged = new StagedBindings(bindings);
    const differences: Difference[] = [];
    const e = { ...expected };
    const a = { ...actual };
    delete e.id;
    delete a.id;
    this.walk(e, a, [], context, staged, differences);
    if (differences.length === 0) staged.commit();
    return differences;
  }

  /**
   * The recorded message with every bound volatile value and redaction placeholder replaced by
   * its live value: what a replayer sends so the other side sees its own ids again.
   */
  materialise<T>(recorded: T, context: MessageContext, bindings: Bindings): T {
    return this.rebuild(recorded, [], context, bindings) as T;
  }

  private rebuild(value: unknown, path: string[], context: MessageContext, bindings: Bindings): unknown {
    const rule = this.ruleAt(path, context);
    if (rule?.kind === 'bind') {
      const bound = bindings.get(rule.name ?? rule.path, value);
      if (bound) return bound.value;
    }
    if (typeof value === 'string') return this.fillPlaceholders(value, bindings);
    if (Array.isArray(value)) return value.map((item, index) => this.rebuild(item, [...path, String(index)], context, bindings));
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = this.rebuild(item, [...path, key], context, bindings);
      return out;
    }
    return value;
  }

  private fillPlaceholders(text: string, bindings: Bindings): string {
    if (!this.placeholderPattern) return text;
    return text.replace(this.placeholderPattern, (placeholder) => {
      const bound = bindings.get('redacted', placeholder);
      return bound ? String(bound.value) : placeholder;
    });
  }

  private ruleAt(path: string[], context: MessageContext): (VolatileRule & { segments: string[] }) | undefined {
    return this.rules.find(
      (rule) =>
        (rule.dir === undefined || rule.dir === context.dir) &&
        (rule.method === undefined || rule.method === context.method) &&
        rule.segments.length === path.length &&
        rule.segments.every((segment, i) => segment === '*' || segment === path[i]),
    );
  }

  private walk(expected: unknown, actual: unknown, path: string[], context: MessageContext, staged: StagedBindings, out: Difference[]): void {
    const rule = this.ruleAt(path, context);
    const pointer = joinPointer(path);
    if (rule) {
      if (rule.kind === 'any') return;
      if (expected === undefined || actual === undefined) {
        if (expected !== actual) out.push({ path: pointer, expected, actual, reason: 'missing' });
        return;
      }
      if (rule.kind === 'match') {
        if (typeof actual !== 'string' || !new RegExp(rule.pattern ?? '').test(actual)) out.push({ path: pointer, expected: `a string matching /${rule.pattern}/`, actual, reason: 'pattern' });
        return;
      }
      const problem = staged.bind(rule.name ?? rule.path, expected, actual);
      if (problem) out.push({ path: pointer, expected, actual, reason: problem });
      return;
    }
    if (typeof expected === 'string' && typeof actual === 'string' && this.placeholderPattern && expected.match(this.placeholderPattern)) {
      const problem = this.matchRedacted(expected, actual, staged);
      if (problem) out.push({ path: pointer, expected, actual, reason: problem });
      return;
    }
    if (Array.isArray(expected) && Array.isArray(actual)) {
      const length = Math.max(expected.length, actual.length);
      for (let i = 0; i < length; i++) this.walk(expected[i], actual[i], [...path, String(i)], context, staged, out);
      return;
    }
    if (isPlainObject(expected) && isPlainObject(actual)) {
      const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
      for (const key of [...keys].sort()) this.walk(expected[key], actual[key], [...path, key], context, staged, out);
      return;
    }
    if (!deepEqual(expected, actual)) out.push({ path: pointer, expected, actual });
  }

  /** A recorded string with placeholders matches a live one when the rest is equal; the gaps bind the placeholders. */
  private matchRedacted(expected: string, actual: string, staged: StagedBindings): string | undefined {
    const names: string[] = [];
    const source = expected
      .split(this.placeholderPattern!)
      .map(escapeRegExp)
      .reduce((acc, part, index) => (index === 0 ? part : `${acc}(.+?)${part}`), '');
    for (const match of expected.matchAll(this.placeholderPattern!)) names.push(match[0]);
    const found = new RegExp(`^${source}$`, 's').exec(actual);
    if (!found) return 'differs outside the redacted parts';
    for (let i = 0; i < names.length; i++) {
      const problem = staged.bind('redacted', names[i], found[i + 1]);
      if (problem) return problem;
    }
    return undefined;
  }
}

/** Bindings proposed while comparing one message, applied only if it matches. */
class StagedBindings {
  private readonly staged = new Map<string, { name: string; recorded: unknown; live: unknown }>();
  constructor(private readonly bindings: Bindings) {}

  bind(name: string, recorded: unknown, live: unknown): string | undefined {
    const key = `${name}\u0000${JSON.stringify(recorded)}`;
    const known = this.staged.get(key) ? { value: this.staged.get(key)!.live } : this.bindings.get(name, recorded);
    if (known) return deepEqual(known.value, live) ? undefined : `${name} ${JSON.stringify(recorded)} stands for ${JSON.stringify(known.value)} earlier in this replay`;
    this.staged.set(key, { name, recorded, live });
    return undefined;
  }

  commit(): void {
    for (const { name, recorded, live } of this.staged.values()) this.bindings.set(name, recorded, live);
  }
}

// ---------------------------------------------------------------------------------------------
// Recording: redaction of secrets

/** How a TranscriptRecorder writes and what it puts in the header. */
export interface RecorderOptions {
  /** Receives each line, without a newline. Must not throw. */
  write: (line: string) => void;
  recordedBy: string;
  plugin?: TranscriptHeader['plugin'];
  description?: string;
  /** Extra volatile rules for this session (added to DEFAULT_VOLATILE_RULES). */
  volatile?: VolatileRule[];
  /** Parses configuration YAML, to find the values of a plugin's secret keys. */
  parseYaml: (text: string) => unknown;
  /** Milliseconds clock; default Date.now. */
  now?: () => number;
}

/** Headers whose values are credentials: always replaced. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-gitlab-token', 'x-hub-signature', 'x-hub-signature-256', 'x-flow-key', 'x-gotify-key']);
/** Lines held back waiting for the plugin's info before the header is written anyway. */
const HELD_BACK_LINES = 50;
/** Secrets shorter than this are only replaced where they are a whole value, never inside text. */
const MIN_SUBSTRING_SECRET = 4;

/**
 * Turns live traffic into transcript lines with every secret replaced by a stable placeholder:
 * webhook tokens (from `webhookBasePath`), the values of the config keys a plugin lists in
 * `secretKeys`, and credential headers of webhook requests. The same secret always gets the
 * same placeholder, so a replay stays meaningful (the plugin sees a consistent fake token).
 *
 * A GitHub-style `X-Hub-Signature(-256)` that verifies with a known secret is re-signed with
 * that secret's placeholder instead of being blanked: a replayed plugin checking signatures
 * then accepts the delivery exactly as it did live.
 *
 * The header is held back until the plugin has answered `initialize` (so it can name the
 * plugin); after that every line is written at once, and a secret found later is announced by
 * a `redaction` line before the first line that uses its placeholder.
 */
export class TranscriptRecorder {
  private readonly started: number;
  private readonly now: () => number;
  private readonly secrets = new Map<string, string>();
  private readonly redactions: Redaction[] = [];
  private readonly pending: Record<TranscriptDirection, Map<string, { method: string; instanceId?: string }>> = { send: new Map(), recv: new Map() };
  /** Per instance: the plugin's secret keys, once config/default answered. */
  private readonly secretKeys = new Map<string, string[]>();
  private headerWritten = false;
  private initialized = false;
  private readonly buffered: string[] = [];

  constructor(private readonly options: RecorderOptions) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  /** Records one message. Never throws: a recording problem must not break the session. */
  message(dir: TranscriptDirection, message: unknown): void {
    try {
      const m = structuredClone(message) as WireMessage;
      this.learn(dir, m);
      const redacted = this.redact(dir, m);
      this.emit(formatEntry({ t: this.now() - this.started, dir, msg: redacted }));
      if (this.initialized) this.flush();
    } catch {
      // A message we cannot clone or inspect is not worth failing the plugin for.
    }
  }

  /**
   * Declares a secret the caller knows of (a host knows its webhook tokens and stored secret
   * config values even when the session never shows where they came from). Safe to call twice.
   */
  addSecret(value: string, what: string): void {
    if (value.length >= MIN_SUBSTRING_SECRET) this.secret(value, what);
  }

  /** Records the host closing stdin without `exit` (only meaningful for a crashed host). */
  stdinClosed(): void {
    this.emit(formatEntry({ t: this.now() - this.started, event: 'stdin-closed' }));
  }

  /** Records the process end; call last. */
  exit(code: number | null, signal: string | null = null): void {
    this.emit(formatEntry({ t: this.now() - this.started, event: 'exit', code, signal }));
    this.flush();
  }

  /** Writes the header and anything held back. Safe to call twice. */
  flush(): void {
    if (this.headerWritten) return;
    this.headerWritten = true;
    this.options.write(JSON.stringify(this.header()));
    for (const line of this.buffered.splice(0)) this.options.write(line);
  }

  private emit(line: string): void {
    if (this.headerWritten) this.options.write(line);
    else if (this.buffered.push(line) >= HELD_BACK_LINES) this.flush();
  }

  private header(): TranscriptHeader {
    const header: TranscriptHeader = {
      flowTranscript: TRANSCRIPT_FORMAT,
      protocolVersion: this.protocolVersion ?? '1.0',
      recordedAt: new Date(this.started).toISOString(),
      recordedBy: this.options.recordedBy,
      volatile: [...DEFAULT_VOLATILE_RULES, ...(this.options.volatile ?? [])],
      redactions: this.redactions,
      ignore: ['ping'],
      stubs: { ping: {} },
    };
    const plugin = { ...this.options.plugin, ...this.pluginInfo };
    if (Object.keys(plugin).length > 0) header.plugin = plugin;
    if (this.options.description) header.description = this.options.description;
    return header;
  }

  private protocolVersion: string | undefined;
  private pluginInfo: { modulePath?: string; name?: string; version?: string } | undefined;

  private learn(dir: TranscriptDirection, m: WireMessage): void {
    const params = (m.params ?? {}) as Record<string, unknown>;
    if (typeof m.method === 'string') {
      if ('id' in m) this.pending[dir].set(JSON.stringify(m.id), { method: m.method, instanceId: params.instanceId as string | undefined });
      if (m.method === 'instance/create' && typeof params.webhookBasePath === 'string') {
        const token = /\/custom\/([^/]+)\//.exec(params.webhookBasePath)?.[1];
        if (token) this.secret(token, 'webhook token');
      }
      if (m.method === 'config/validateAndSet' && typeof params.config === 'string') this.learnConfig(String(params.instanceId), params.config);
      return;
    }
    const request = this.pending[dir === 'send' ? 'recv' : 'send'].get(JSON.stringify(m.id));
    if (!request) return;
    this.pending[dir === 'send' ? 'recv' : 'send'].delete(JSON.stringify(m.id));
    const result = m.result as Record<string, unknown> | undefined;
    if (!result) return;
    if (request.method === 'initialize') {
      this.initialized = true;
      this.protocolVersion = typeof result.protocolVersion === 'string' ? result.protocolVersion : undefined;
      const info = result.info as Record<string, unknown> | undefined;
      if (info) this.pluginInfo = pick(info, ['modulePath', 'name', 'version']);
    }
    if (request.method === 'config/default' && request.instanceId !== undefined) {
      if (Array.isArray(result.secretKeys)) this.secretKeys.set(request.instanceId, result.secretKeys.filter((k): k is string => typeof k === 'string'));
      if (typeof result.config === 'string') this.learnConfig(request.instanceId, result.config);
    }
  }

  private learnConfig(instanceId: string, yaml: string): void {
    const keys = this.secretKeys.get(instanceId) ?? [...new Set([...this.secretKeys.values()].flat())];
    if (keys.length === 0) return;
    let parsed: unknown;
    try {
      parsed = this.options.parseYaml(yaml);
    } catch {
      return;
    }
    if (!isPlainObject(parsed)) return;
    // A secret key's value may be a mapping or a list (headers with tokens): every string and number in it is secret.
    for (const key of keys) for (const value of scalarLeaves(parsed[key])) this.secret(value, `config key ${key}`);
  }

  private secret(value: string, what: string): string {
    const known = this.secrets.get(value);
    if (known) return known;
    const placeholder = placeholderFor(this.secrets.size + 1, value.length);
    this.secrets.set(value, placeholder);
    this.redactions.push({ placeholder, what });
    if (this.headerWritten) this.options.write(JSON.stringify({ t: this.now() - this.started, event: 'redaction', placeholder, what }));
    return placeholder;
  }

  private redact(dir: TranscriptDirection, m: WireMessage): WireMessage {
    const params = m.params as Record<string, unknown> | undefined;
    if (dir === 'send' && m.method === 'webhook/request' && params && isPlainObject(params.headers)) {
      const headers = params.headers as Record<string, string>;
      for (const name of Object.keys(headers)) {
        if (!SECRET_HEADERS.has(name)) continue;
        headers[name] = this.redactHeader(name, headers[name]!, typeof params.body === 'string' ? params.body : '');
      }
    }
    return this.replaceSecrets(m) as WireMessage;
  }

  private redactHeader(name: string, value: string, bodyBase64: string): string {
    if (name === 'x-hub-signature-256' || name === 'x-hub-signature') {
      const algorithm = name === 'x-hub-signature-256' ? 'sha256' : 'sha1';
      const body = Buffer.from(bodyBase64, 'base64');
      for (const [secret, placeholder] of this.secrets) {
        if (value === `${algorithm}=${createHmac(algorithm, secret).update(body).digest('hex')}`) {
          return `${algorithm}=${createHmac(algorithm, placeholder).update(body).digest('hex')}`;
        }
      }
    }
    return this.secret(value, `${name} header`);
  }

  private replaceSecrets(value: unknown): unknown {
    if (this.secrets.size === 0) return value;
    if (typeof value === 'string') {
      const exact = this.secrets.get(value);
      if (exact) return exact;
      let text = value;
      for (const [secret, placeholder] of [...this.secrets].sort((a, b) => b[0].length - a[0].length)) {
        if (secret.length >= MIN_SUBSTRING_SECRET && text.includes(secret)) text = text.split(secret).join(placeholder);
      }
      return text;
    }
    // A secret number (a PIN) parsed from YAML travels as a JSON number: it becomes its placeholder,
    // the string the plugin gets in its place on replay. Short numbers are left alone, as substrings are.
    if (typeof value === 'number') {
      const text = String(value);
      return (text.length >= MIN_SUBSTRING_SECRET && this.secrets.get(text)) || value;
    }
    if (Array.isArray(value)) return value.map((item) => this.replaceSecrets(item));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = this.replaceSecrets(item);
      return out;
    }
    return value;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function splitPointer(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function joinPointer(path: string[]): string {
  return path.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) if (typeof source[key] === 'string') out[key] = source[key] as string;
  return out;
}

/** JSON equality: key order does not matter, `undefined` members count as absent. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!deepEqual(a[key], b[key])) return false;
    return true;
  }
  return false;
}

/** The non-empty strings and the numbers inside a config value, at any depth, as strings. */
export function scalarLeaves(value: unknown): string[] {
  if ((typeof value === 'string' && value !== '') || typeof value === 'number') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(scalarLeaves);
  if (isPlainObject(value)) return Object.values(value).flatMap(scalarLeaves);
  return [];
}
