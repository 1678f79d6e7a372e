import { FlowError } from '../../errors.js';
import type { PluginConfRecord } from '../../model/plugin-conf.js';
import type { WriteFence } from '../message.js';
import type { PluginConfPatch, PluginConfStore } from '../plugin-conf.js';
import { OwnedCache } from '../owned-cache.js';
import { SharedTexts } from '../shared-texts.js';
import type { WriteGate } from '../write-gate.js';
import { CachedOwnedStore } from './owned-store.js';

const pathKey = (userId: number, modulePath: string) => `${userId}!${modulePath}`;

/** What `create` takes: enabled false unless given. */
export type PluginConfInput = Omit<PluginConfRecord, 'id' | 'createdAt' | 'enabled'> & { enabled?: boolean };

/**
 * Plugin confs served from memory (webhooks look them up by token), the same for both
 * backends: the token and (user, module) indexes, shared config texts, the uniqueness rules
 * checked under the store's lock and the write-through after commit. A backend supplies the
 * record writes and the storage and key-value entries, which are never cached.
 */
export abstract class CachedPluginConfStore extends CachedOwnedStore<PluginConfRecord> implements PluginConfStore {
  private byPath = new Map<string, number>();
  private texts = new SharedTexts();

  constructor(gate: WriteGate, records: OwnedCache<PluginConfRecord> = new OwnedCache()) {
    super(gate, records);
    records.addIndex({
      add: (p) => {
        p.config = this.texts.share(p.config);
        this.byPath.set(pathKey(p.userId, p.modulePath), p.id);
      },
      remove: (p) => {
        this.texts.release(p.config);
        this.byPath.delete(pathKey(p.userId, p.modulePath));
      },
    });
  }

  /** Writes the new conf (its `id` is 0); returns the id it got. */
  protected abstract insertRecord(draft: PluginConfRecord): Promise<number>;
  protected abstract writeRecord(next: PluginConfRecord, fence?: WriteFence): Promise<void>;
  /** Deletes the conf with its storage and kv entries. */
  protected abstract override deleteRecord(cur: PluginConfRecord): Promise<void>;

  abstract getStorage(id: number): Promise<Buffer>;
  abstract setStorage(id: number, data: Uint8Array): Promise<void>;
  abstract kvGet(id: number, key: string): Promise<unknown>;
  abstract kvList(id: number): Promise<Record<string, unknown>>;
  abstract kvKeys(id: number, prefix?: string): Promise<string[]>;
  abstract kvUsage(id: number): Promise<{ keys: number; bytes: number }>;
  abstract kvSet(id: number, key: string, value: unknown): Promise<void>;

  kvDelete(id: number, key: string): Promise<void> {
    return this.kvSet(id, key, undefined);
  }

  protected missing(): string {
    return 'unknown plugin';
  }

  getByUserAndPath(userId: number, modulePath: string): PluginConfRecord | undefined {
    const id = this.byPath.get(pathKey(userId, modulePath));
    return id === undefined ? undefined : this.records.get(id);
  }

  /** Every conf ordered by id. */
  list(): PluginConfRecord[] {
    return this.records.list();
  }

  /** FLOW_ERR_STORE_CONFLICT when the token exists or the user already has a conf for the module. */
  create(input: PluginConfInput): Promise<PluginConfRecord> {
    return this.createChecked(
      () => {
        this.refuseTakenToken(input.token);
        if (this.getByUserAndPath(input.userId, input.modulePath)) {
          throw new FlowError('FLOW_ERR_STORE_CONFLICT', `user ${input.userId} already has a conf for ${input.modulePath}`);
        }
      },
      async () => {
        const draft: PluginConfRecord = { ...input, id: 0, enabled: input.enabled ?? false, createdAt: new Date().toISOString() };
        return { ...draft, id: await this.insertRecord(draft) };
      },
    );
  }

  /** Changes enabled, config or applicationId. */
  update(id: number, patch: PluginConfPatch, fence?: WriteFence): Promise<PluginConfRecord> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      const next = { ...cur, ...patch };
      await this.writeRecord(next, fence);
      next.config = this.texts.share(next.config);
      this.texts.release(cur.config);
      this.records.set(next);
      return next;
    });
  }
}
