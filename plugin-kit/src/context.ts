import { setMaxListeners } from 'node:events';
import { KvCompareAndSet, KvDelete, KvGet, KvIncrement, KvList, KvSet, MessageSend, SendMessageParams, StorageLoad, StorageSave, type LogLevel, type RequestDefinition, type ResultOf } from '@flow/protocol';
import type { BlobStorage, InstanceContext, KeyValueStore, LogFields, Logger, OutgoingMessage } from './instance.js';

/** What an instance's context needs from its session (serve.ts): one per session, shared by every instance. */
export interface ContextHost {
  /** To the host's log once the session is ready, to stderr before. */
  log(level: LogLevel, message: string, fields: LogFields | undefined, instanceId: string): void;
  /** Calls a host service for the instance; throws when the plugin did not declare the capability. */
  call<D extends RequestDefinition>(def: D, instanceId: string, params: Record<string, unknown>): Promise<ResultOf<D>>;
  /** Throws `<what> needs uses: ['<capability>'] in definePlugin` when the plugin did not declare it. */
  requireCapability(capability: 'messenger' | 'storager', what: string): void;
  /** Throws `<what> needs protocol <since>` when the host agreed on an older version (spec §14). */
  requireVersion(since: string, what: string): void;
  /** Whether the agreed protocol version is at least `since`. */
  speaks(since: string): boolean;
}

/**
 * The `ctx` of one instance. A plugin has one instance per user (issue 4's benchmark: 10,000
 * users), so an instance costs only this object until it uses something: `log`, `storage`, `kv`
 * and `send` are built on first access (as closures, so `const { log } = this.ctx` keeps
 * working), and so is `signal`, whose AbortController is the largest of all (~1 KB: an
 * EventTarget with its own hidden class and two Maps). Built eagerly, these cost ~2 KB per
 * instance, 20 MB at 10,000 instances.
 */
export class KitContext implements InstanceContext {
  readonly #host: ContextHost;
  #log: Logger | undefined;
  #storage: BlobStorage | undefined;
  #kv: KeyValueStore | undefined;
  #send: InstanceContext['send'] | undefined;
  #controller: AbortController | undefined;
  /** Set when aborted before anyone asked for the signal; the signal is then born aborted with it. */
  #abortReason: { reason: unknown } | undefined;

  constructor(
    host: ContextHost,
    readonly instanceId: string,
    readonly user: InstanceContext['user'],
    readonly webhookBasePath: string,
  ) {
    this.#host = host;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      // Every handler's call.signal listens on it: 64 concurrent webhooks must not trip Node's leak warning.
      setMaxListeners(0, controller.signal);
      if (this.#abortReason) controller.abort(this.#abortReason.reason);
      this.#controller = controller;
    }
    return this.#controller.signal;
  }

  /** Aborts `signal` (now, or at its creation if nobody asked for it yet). Safe to call twice: the first reason stays. */
  abort(reason: unknown): void {
    if (this.#abortReason) return;
    this.#abortReason = { reason };
    this.#controller?.abort(reason);
  }

  get log(): Logger {
    if (!this.#log) {
      const { instanceId } = this;
      const host = this.#host;
      this.#log = {
        debug: (message, fields) => host.log('debug', message, fields, instanceId),
        info: (message, fields) => host.log('info', message, fields, instanceId),
        warn: (message, fields) => host.log('warn', message, fields, instanceId),
        error: (message, fields) => host.log('error', message, fields, instanceId),
      };
    }
    return this.#log;
  }

  get storage(): BlobStorage {
    if (!this.#storage) {
      const { instanceId } = this;
      const host = this.#host;
      const storage: BlobStorage = {
        async load() {
          const { data } = await host.call(StorageLoad, instanceId, {});
          return Buffer.from(data, 'base64');
        },
        async save(data) {
          const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
          await host.call(StorageSave, instanceId, { data: bytes.toString('base64') });
        },
        async loadJSON<T>() {
          const bytes = await storage.load();
          return bytes.length === 0 ? undefined : (JSON.parse(bytes.toString('utf8')) as T);
        },
        async saveJSON(value) {
          await storage.save(JSON.stringify(value));
        },
      };
      this.#storage = storage;
    }
    return this.#storage;
  }

  get kv(): KeyValueStore {
    if (!this.#kv) {
      const { instanceId } = this;
      const host = this.#host;
      this.#kv = {
        async get(key) {
          return (await host.call(KvGet, instanceId, { key })).value;
        },
        async set(key, value) {
          await host.call(KvSet, instanceId, { key, value });
        },
        async delete(key) {
          return (await host.call(KvDelete, instanceId, { key })).deleted;
        },
        async list(prefix) {
          const base = prefix === undefined ? {} : { prefix };
          // A 1.0 host answers every key at once; a 1.1 host pages (spec §7.12).
          if (!host.speaks('1.1')) return (await host.call(KvList, instanceId, base)).keys;
          const keys: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await host.call(KvList, instanceId, cursor === undefined ? base : { ...base, cursor });
            keys.push(...page.keys);
            cursor = page.nextCursor;
          } while (cursor !== undefined);
          return keys;
        },
        async compareAndSet(key, expected, value) {
          host.requireVersion('1.1', 'ctx.kv.compareAndSet');
          return host.call(KvCompareAndSet, instanceId, { key, expected, value });
        },
        async increment(key, delta = 1) {
          host.requireVersion('1.1', 'ctx.kv.increment');
          return (await host.call(KvIncrement, instanceId, { key, delta })).value;
        },
      };
    }
    return this.#kv;
  }

  /** A getter returning a closure rather than a method, so `const send = this.ctx.send` works as it always did. */
  get send(): InstanceContext['send'] {
    if (!this.#send) {
      const { instanceId } = this;
      const host = this.#host;
      this.#send = async (message: OutgoingMessage) => {
        host.requireCapability('messenger', 'ctx.send');
        const params = SendMessageParams.safeParse({ ...message, instanceId });
        if (!params.success) throw new TypeError(`ctx.send: invalid message: ${params.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
        const { instanceId: _, ...rest } = params.data;
        return host.call(MessageSend, instanceId, rest);
      };
    }
    return this.#send;
  }
}
