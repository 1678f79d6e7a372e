import { ErrorCodes } from '@flow/protocol';
import { ResponseError } from 'vscode-jsonrpc/node';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import type { PluginConfStore } from '../store/plugin-conf.js';

/** The few store methods plugin storage uses. */
export type StorageStore = Pick<PluginConfStore, 'getStorage' | 'setStorage' | 'kvGet' | 'kvSet' | 'kvList'>;

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Per-instance storage with one quota over the blob plus every key and value (UTF-8 bytes).
 *
 * Writes of one instance are serialised, so the usage check and the write cannot interleave
 * with another write of the same instance (two saves cannot both pass the check); instances
 * never wait for each other. Usage is computed from the store on first use and then kept in
 * memory. Every write is in LevelDB before its promise resolves: the response the plugin
 * gets means durable.
 */
export class PluginStorage {
  private usage = new Map<number, { blob: number; kv: Map<string, number> }>();
  /** Writes of one instance, one at a time. */
  private readonly writes = new KeyedMutex<number>();

  constructor(
    private readonly store: StorageStore,
    private readonly quotaBytes: number,
  ) {}

  load(confId: number): Promise<Buffer> {
    return this.store.getStorage(confId);
  }

  save(confId: number, data: Buffer): Promise<void> {
    return this.writes.run(confId, async () => {
      const u = await this.usageOf(confId);
      this.check(u, data.length - u.blob);
      await this.store.setStorage(confId, data);
      u.blob = data.length;
    });
  }

  async kvGet(confId: number, key: string): Promise<string | null> {
    const v = await this.store.kvGet(confId, key);
    return typeof v === 'string' ? v : v === undefined ? null : JSON.stringify(v);
  }

  kvSet(confId: number, key: string, value: string): Promise<void> {
    return this.writes.run(confId, async () => {
      const u = await this.usageOf(confId);
      const size = bytes(key) + bytes(value);
      this.check(u, size - (u.kv.get(key) ?? 0));
      await this.store.kvSet(confId, key, value);
      u.kv.set(key, size);
    });
  }

  kvDelete(confId: number, key: string): Promise<boolean> {
    return this.writes.run(confId, async () => {
      const u = await this.usageOf(confId);
      const existed = (await this.store.kvGet(confId, key)) !== undefined;
      if (existed) await this.store.kvSet(confId, key, undefined);
      u.kv.delete(key);
      return existed;
    });
  }

  async kvList(confId: number, prefix = ''): Promise<string[]> {
    const all = await this.store.kvList(confId);
    // Sorted by UTF-16 code unit, as the protocol says (LevelDB sorts by byte).
    return Object.keys(all)
      .filter((k) => k.startsWith(prefix))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Forget cached usage (the conf was deleted with its user). */
  forget(confId: number): void {
    this.usage.delete(confId);
  }

  private check(u: { blob: number; kv: Map<string, number> }, delta: number): void {
    if (delta <= 0) return;
    let used = u.blob;
    for (const n of u.kv.values()) used += n;
    if (used + delta > this.quotaBytes) {
      throw new ResponseError(ErrorCodes.QuotaExceeded, `storage quota exceeded: ${used + delta} bytes would exceed the ${this.quotaBytes}-byte limit (plugins.storagequotabytes); nothing was written`, {
        limitBytes: this.quotaBytes,
        usedBytes: used,
      });
    }
  }

  private async usageOf(confId: number): Promise<{ blob: number; kv: Map<string, number> }> {
    let u = this.usage.get(confId);
    if (u) return u;
    const [blob, entries] = await Promise.all([this.store.getStorage(confId), this.store.kvList(confId)]);
    const kv = new Map<string, number>();
    for (const [k, v] of Object.entries(entries)) kv.set(k, bytes(k) + bytes(typeof v === 'string' ? v : JSON.stringify(v)));
    u = { blob: blob.length, kv };
    this.usage.set(confId, u);
    return u;
  }
}
