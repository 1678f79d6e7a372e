import { ErrorCodes } from '@flow/protocol';
import { ResponseError } from 'vscode-jsonrpc/node';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import type { WriteFence } from '../store/message.js';
import type { PluginConfStore } from '../store/plugin-conf.js';

/** The few store methods plugin storage uses. */
export type StorageStore = Pick<PluginConfStore, 'getStorage' | 'setStorage' | 'kvGet' | 'kvSet' | 'kvKeys' | 'kvUsage'>;

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

export interface StorageLimits {
  /** Bytes per instance: blob + every key and value + `keyOverheadBytes` per key + the config text. */
  quotaBytes: number;
  /**
   * Counted per key on top of its bytes: what a key costs beyond its text (LevelDB's key prefix
   * and index, the listing). Without it, 300,000 one-byte keys fit a 4 MiB quota.
   */
  keyOverheadBytes?: number;
  /** Keys per instance. */
  maxKeys?: number;
  /** UTF-8 bytes of the instance's stored config text (counted against the same quota). */
  configBytes?: (confId: number) => number;
}

interface Usage {
  blob: number;
  kvBytes: number;
  keys: number;
}

/**
 * Per-instance storage with one quota over the blob, every key and value (UTF-8 bytes) plus a
 * fixed overhead per key, and the instance's config text, and a cap on the number of keys.
 *
 * Writes of one instance are serialised, so the usage check and the write cannot interleave
 * with another write of the same instance (two saves cannot both pass the check); instances
 * never wait for each other. Usage is computed from the store on first use and then kept in
 * memory as three totals per instance (never the key set: a plugin's keys stay in LevelDB; a
 * replaced or deleted value's size is read back from the store). Every write is in LevelDB
 * before its promise resolves: the response the plugin gets means durable.
 */
export class PluginStorage {
  private usage = new Map<number, Usage>();
  /** Writes of one instance, one at a time. */
  private readonly writes = new KeyedMutex<number>();
  private readonly limits: Required<StorageLimits>;

  constructor(
    private readonly store: StorageStore,
    limits: StorageLimits | number,
  ) {
    const l = typeof limits === 'number' ? { quotaBytes: limits } : limits;
    this.limits = { keyOverheadBytes: 64, maxKeys: 10_000, configBytes: () => 0, ...l };
  }

  load(confId: number): Promise<Buffer> {
    return this.store.getStorage(confId);
  }

  /** Every write takes the instance's `fence` (replicas: its lease, checked in the write's transaction). */
  save(confId: number, data: Buffer, fence?: WriteFence): Promise<void> {
    return this.writes.run(confId, async () => {
      const u = await this.usageOf(confId);
      this.check(confId, u, data.length - u.blob);
      await this.store.setStorage(confId, data, fence);
      u.blob = data.length;
    });
  }

  async kvGet(confId: number, key: string): Promise<string | null> {
    const v = await this.store.kvGet(confId, key);
    return typeof v === 'string' ? v : v === undefined ? null : JSON.stringify(v);
  }

  kvSet(confId: number, key: string, value: string, fence?: WriteFence): Promise<void> {
    return this.writes.run(confId, () => this.put(confId, key, value, fence));
  }

  /** Sets a key inside the instance's write chain: the key cap and the quota, then the write. */
  private async put(confId: number, key: string, value: string, fence: WriteFence | undefined): Promise<void> {
    const u = await this.usageOf(confId);
    const old = await this.sizeOf(confId, key);
    const size = bytes(key) + bytes(value);
    if (old === undefined && u.keys + 1 > this.limits.maxKeys) {
      throw new ResponseError(ErrorCodes.QuotaExceeded, `storage quota exceeded: the instance already has ${u.keys} keys, the limit (plugins.storagemaxkeys); nothing was written`, {
        limitBytes: this.limits.quotaBytes,
        usedBytes: this.used(confId, u),
      });
    }
    const delta = old === undefined ? size + this.limits.keyOverheadBytes : size - old;
    this.check(confId, u, delta);
    await this.store.kvSet(confId, key, value, fence);
    u.kvBytes += delta - (old === undefined ? this.limits.keyOverheadBytes : 0);
    if (old === undefined) u.keys++;
  }

  /** Deletes a key inside the instance's write chain; whether it existed. */
  private async remove(confId: number, key: string, fence: WriteFence | undefined): Promise<boolean> {
    const u = await this.usageOf(confId);
    const old = await this.sizeOf(confId, key);
    if (old === undefined) return false;
    await this.store.kvSet(confId, key, undefined, fence);
    u.kvBytes -= old;
    u.keys--;
    return true;
  }

  kvDelete(confId: number, key: string, fence?: WriteFence): Promise<boolean> {
    return this.writes.run(confId, () => this.remove(confId, key, fence));
  }

  /**
   * `kv/compareAndSet` (1.1): in the instance's write chain, so nothing writes between the
   * compare and the set. Returns whether it swapped and the value the key holds afterwards.
   */
  kvCompareAndSet(confId: number, key: string, expected: string | null, value: string | null, fence?: WriteFence): Promise<{ swapped: boolean; value: string | null }> {
    return this.writes.run(confId, async () => {
      const current = await this.kvGet(confId, key);
      if (current !== expected) return { swapped: false, value: current };
      if (value === null) await this.remove(confId, key, fence);
      else await this.put(confId, key, value, fence);
      return { swapped: true, value };
    });
  }

  /** `kv/increment` (1.1): the decimal integer at `key` (unset: 0) plus `delta`, stored as text, atomically. */
  kvIncrement(confId: number, key: string, delta: number, fence?: WriteFence): Promise<number> {
    return this.writes.run(confId, async () => {
      const current = await this.kvGet(confId, key);
      if (current !== null && !/^-?(0|[1-9]\d{0,15})$/.test(current)) throw notAnInteger(key, `holds ${JSON.stringify(current.slice(0, 40))}, not a decimal integer`);
      const next = (current === null ? 0 : Number(current)) + delta;
      if (!Number.isSafeInteger(next)) throw notAnInteger(key, `would hold ${next}, beyond ±(2^53−1)`);
      await this.put(confId, key, String(next), fence);
      return next;
    });
  }

  async kvList(confId: number, prefix = ''): Promise<string[]> {
    // Keys only, never the values; sorted by UTF-16 code unit, as the protocol says (LevelDB sorts by byte).
    const keys = await this.store.kvKeys(confId, prefix);
    return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Whether a config text of `configBytes` fits the quota beside the instance's stored data. */
  async configFits(confId: number, configBytes: number): Promise<boolean> {
    const u = await this.usageOf(confId);
    return this.used(confId, u) - this.limits.configBytes(confId) + configBytes <= this.limits.quotaBytes;
  }

  /** Forget cached usage (the conf was deleted with its user). */
  forget(confId: number): void {
    this.usage.delete(confId);
  }

  private used(confId: number, u: Usage): number {
    return u.blob + u.kvBytes + u.keys * this.limits.keyOverheadBytes + this.limits.configBytes(confId);
  }

  private check(confId: number, u: Usage, delta: number): void {
    if (delta <= 0) return;
    const used = this.used(confId, u);
    const quota = this.limits.quotaBytes;
    if (used + delta > quota) {
      throw new ResponseError(ErrorCodes.QuotaExceeded, `storage quota exceeded: ${used + delta} bytes would exceed the ${quota}-byte limit (plugins.storagequotabytes, counting the config text and ${this.limits.keyOverheadBytes} bytes per key); nothing was written`, {
        limitBytes: quota,
        usedBytes: used,
      });
    }
  }

  /** Bytes of an existing entry (key + value as stored), or undefined when the key is not set. */
  private async sizeOf(confId: number, key: string): Promise<number | undefined> {
    const v = await this.store.kvGet(confId, key);
    return v === undefined ? undefined : bytes(key) + bytes(typeof v === 'string' ? v : JSON.stringify(v));
  }

  private async usageOf(confId: number): Promise<Usage> {
    let u = this.usage.get(confId);
    if (u) return u;
    const [blob, kv] = await Promise.all([this.store.getStorage(confId), this.store.kvUsage(confId)]);
    u = { blob: blob.length, kvBytes: kv.bytes, keys: kv.keys };
    this.usage.set(confId, u);
    return u;
  }
}

function notAnInteger(key: string, what: string): ResponseError<unknown> {
  const message = `kv/increment: the key ${JSON.stringify(key)} ${what}; nothing was written`;
  return new ResponseError(ErrorCodes.InvalidParams, message, { issues: [{ path: ['key'], message }] });
}
