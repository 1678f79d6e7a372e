import type { Location, Message, SendMessageParams, UserContext } from '@flow/protocol';

/** Structured log fields: any JSON-serialisable values. */
export type LogFields = Record<string, unknown>;

/**
 * Log lines for the host's log. Before the handshake, and when the host is gone, lines go to
 * stderr as JSON instead. `console.*` works too but carries no instance.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** The instance's storage blob (Gotify's Storager). Needs `uses: ['storager']`. */
export interface BlobStorage {
  /** The saved bytes; empty when nothing was saved. */
  load(): Promise<Buffer>;
  /** Replaces the blob. Rejects with QuotaExceeded (RpcError) over the host's quota. */
  save(data: Buffer | Uint8Array | string): Promise<void>;
  /** `load()` parsed as JSON; undefined when nothing was saved. */
  loadJSON<T = unknown>(): Promise<T | undefined>;
  saveJSON(value: unknown): Promise<void>;
}

/** Small named values per instance, counted against the same quota as the blob. Needs `uses: ['storager']`. */
export interface KeyValueStore {
  /** null when the key is not set. */
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  /** false when the key was not set. */
  delete(key: string): Promise<boolean>;
  /** Keys starting with `prefix`, sorted (every page, on a 1.1 host). */
  list(prefix?: string): Promise<string[]>;
  /**
   * Atomic compare-and-set (protocol 1.1): sets `value` (null deletes) only if the key holds
   * `expected` (null: not set). Resolves whether it swapped and the value the key now holds.
   */
  compareAndSet(key: string, expected: string | null, value: string | null): Promise<{ swapped: boolean; value: string | null }>;
  /** Atomic increment (protocol 1.1) of a decimal integer value (unset counts as 0); resolves the new value. */
  increment(key: string, delta?: number): Promise<number>;
}

/** A message to send as the instance's application. `title` and `priority` default to the application's. */
export type OutgoingMessage = Omit<SendMessageParams, 'instanceId'>;

/** Everything an instance gets from the kit, built per instance by `instance/create`. */
export interface InstanceContext {
  /** Host-chosen id, stable for the user's lifetime. */
  readonly instanceId: string;
  /** The user, as at instance creation (Gotify semantics: renames arrive after a restart). */
  readonly user: UserContext;
  /** Absolute path of this instance's webhooks with a trailing slash, e.g. "/plugin/5/custom/Pabc/". */
  readonly webhookBasePath: string;
  readonly log: Logger;
  readonly storage: BlobStorage;
  readonly kv: KeyValueStore;
  /** Sends a message (needs `uses: ['messenger']`); resolves with the stored message's id. */
  send(message: OutgoingMessage): Promise<{ id: number }>;
  /** Aborted when the instance is destroyed or the plugin shuts down: stop timers and sockets with it. */
  readonly signal: AbortSignal;
}

/** Passed as the last argument of every handler: the request's own cancellation. */
export interface CallContext {
  /** Aborted when the host cancels this request (`$/cancelRequest`), the instance is destroyed or the plugin stops. */
  readonly signal: AbortSignal;
}

/** Where the user looks at the plugin page from. */
export interface DisplayLocation extends Location {
  /** `scheme://host` + webhookBasePath: absolute URL prefix of this instance's webhooks, with a trailing slash. */
  readonly webhookUrl: string;
}

/** An HTTP request under the instance's webhook base path. */
export interface WebhookRequest {
  /** Upper case: "GET", "POST". */
  readonly method: string;
  /** Relative to the base path, starting with "/": "/echo". */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The raw query string without "?". */
  readonly rawQuery: string;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly remoteAddress: string | undefined;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON; throws on invalid JSON (the caller answers 500 unless caught). */
  json<T = unknown>(): T;
}

/**
 * The answer to a webhook request. `body` as string is sent as text/plain, an object or array
 * as application/json, bytes as application/octet-stream, unless `headers` names a content-type.
 */
export interface WebhookReply {
  /** Defaults to 200. */
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer | Uint8Array | object | null;
}

/**
 * A rejected configuration; its message reaches the user as is. Any other thrown error is
 * treated the same way, this class only makes the intent explicit.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * The optional methods of a plugin instance, one group per capability; `definePlugin` reads
 * which ones the instance class has. Every handler may be async and gets a CallContext last.
 */
export interface PluginHandlers<Config = any> {
  /** Always available. Throwing keeps the instance disabled; the text reaches the user. */
  enable?(call: CallContext): void | Promise<void>;
  disable?(call: CallContext): void | Promise<void>;

  /** configurer (with validateAndSetConfig): an object (the kit writes it as YAML) or YAML text (kept as is, comments included). */
  defaultConfig?(call: CallContext): Config | string | Promise<Config | string>;
  /** configurer: the user's YAML, parsed and merged onto `defaultConfig()`. Throw to reject it. */
  validateAndSetConfig?(config: Config, call: CallContext): void | Promise<void>;

  /** displayer: markdown for the plugin's page, asked for on every page view. */
  getDisplay?(location: DisplayLocation, call: CallContext): string | Promise<string>;

  /** webhooker: every HTTP request under the instance's webhook base path. */
  handleWebhook?(request: WebhookRequest, call: CallContext): WebhookReply | Promise<WebhookReply>;

  /** subscriber: each new message of the instance's user. */
  onMessage?(message: Message, call: CallContext): void | Promise<void>;
}

/**
 * Base class of a plugin instance: one per user. Subclass it and add the PluginHandlers
 * methods of the capabilities you implement (no `override` needed: the base class declares
 * none of them, `definePlugin` checks their signatures).
 *
 * - `enable()` / `disable()`: always available.
 * - configurer: `defaultConfig()` and `validateAndSetConfig(config)`, both.
 * - displayer: `getDisplay(location)`.
 * - webhooker: `handleWebhook(request)`.
 * - subscriber: `onMessage(message)`.
 *
 * `Config` documents the config type; the kit passes the parsed, merged YAML as is.
 */
export abstract class PluginInstance<Config = unknown> {
  constructor(protected readonly ctx: InstanceContext) {}
}

/** A class whose instances are PluginInstances, constructed with an InstanceContext. */
export type PluginInstanceClass = new (ctx: InstanceContext) => PluginInstance<any> & PluginHandlers<any>;
