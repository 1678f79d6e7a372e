import type { PluginConfRecord } from '../model/plugin-conf.js';
import type { WriteFence } from './message.js';

/** The fields of a plugin conf that `update` may change. */
export type PluginConfPatch = Partial<Pick<PluginConfRecord, 'enabled' | 'config' | 'applicationId'>>;

/**
 * Plugin confs: one per (user, plugin module), cached in memory (webhooks look them up by
 * token). A plugin's `storage` blob and key-value entries are kept apart from the conf record,
 * so a plugin's state changes never rewrite the conf (and vice versa).
 */
export interface PluginConfStore {
  get(id: number): PluginConfRecord | undefined;
  getByToken(token: string): PluginConfRecord | undefined;
  getByUserAndPath(userId: number, modulePath: string): PluginConfRecord | undefined;
  /**
   * The user's conf of the module as the database holds it now, taken into memory (PostgreSQL:
   * another replica may have just created it, before its change notification arrived here).
   */
  reread?(userId: number, modulePath: string): Promise<PluginConfRecord | undefined>;
  /** The user's confs ordered by id. */
  listByUser(userId: number): PluginConfRecord[];
  /** Every conf ordered by id. */
  list(): PluginConfRecord[];
  /** Enabled false unless given. FLOW_ERR_STORE_CONFLICT when the token exists or the user has a conf for the module. */
  create(input: Omit<PluginConfRecord, 'id' | 'createdAt' | 'enabled'> & { enabled?: boolean }): Promise<PluginConfRecord>;
  /** `fence` (PostgreSQL): written only while the instance's lease holds (linking its internal application). */
  update(id: number, patch: PluginConfPatch, fence?: WriteFence): Promise<PluginConfRecord>;
  /** Deletes one conf with its storage and kv entries. */
  delete(id: number): Promise<PluginConfRecord>;
  /** The plugin's opaque storage blob; empty when never set. */
  getStorage(id: number): Promise<Buffer>;
  /** With `fence` (PostgreSQL, replicas): written only while the instance's lease holds, else FLOW_ERR_LEASE_LOST and nothing written. */
  setStorage(id: number, data: Uint8Array, fence?: WriteFence): Promise<void>;
  kvGet(id: number, key: string): Promise<unknown>;
  /** All entries of the instance, ordered by key. */
  kvList(id: number): Promise<Record<string, unknown>>;
  /** The instance's keys starting with `prefix`, ordered, without reading their values. */
  kvKeys(id: number, prefix?: string): Promise<string[]>;
  /** Number of keys and UTF-8 bytes of keys + values as stored. */
  kvUsage(id: number): Promise<{ keys: number; bytes: number }>;
  /** Sets one key (a JSON-serialisable value); `undefined` deletes it. `fence` as for setStorage. */
  kvSet(id: number, key: string, value: unknown, fence?: WriteFence): Promise<void>;
  kvDelete(id: number, key: string): Promise<void>;
}
