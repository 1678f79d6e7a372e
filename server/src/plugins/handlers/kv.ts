import {
  KV_LIST_MAX_PAGE,
  versionAtLeast,
  type EmptyResult,
  type KvCompareAndSetParams,
  type KvCompareAndSetResult,
  type KvDeleteResult,
  type KvGetResult,
  type KvIncrementParams,
  type KvIncrementResult,
  type KvKeyParams,
  type KvListParams,
  type KvListResult,
  type KvSetParams,
} from '@flow/protocol';
import type { PluginStorage } from '../storage.js';
import type { HostCallContext } from './context.js';

/** `kv/get`: the value, or null when the key is not set. */
export async function kvGet(ctx: HostCallContext, params: KvKeyParams, storage: PluginStorage): Promise<KvGetResult> {
  return { value: await storage.kvGet(ctx.conf.id, params.key) };
}

/** `kv/set`: QuotaExceeded changes nothing. */
export async function kvSet(ctx: HostCallContext, params: KvSetParams, storage: PluginStorage): Promise<EmptyResult> {
  await storage.kvSet(ctx.conf.id, params.key, params.value, ctx.fence);
  return {};
}

/** `kv/delete`: whether the key existed. */
export async function kvDelete(ctx: HostCallContext, params: KvKeyParams, storage: PluginStorage): Promise<KvDeleteResult> {
  return { deleted: await storage.kvDelete(ctx.conf.id, params.key, ctx.fence) };
}

/** A page stops before its keys' JSON passes this, whatever `limit` says: far below any frame limit. */
const KV_LIST_PAGE_BYTES = 1024 * 1024;

/**
 * `kv/list`: keys (with the prefix), sorted by UTF-16 code unit. A 1.0 plugin gets every key
 * (it cannot page); on 1.1 one page after `cursor` (the last key of the previous page, so a
 * page never repeats or skips a key that stays), with `nextCursor` when more follow.
 */
export async function kvList(ctx: HostCallContext, params: KvListParams, storage: PluginStorage): Promise<KvListResult> {
  const all = await storage.kvList(ctx.conf.id, params.prefix);
  if (!versionAtLeast(ctx.session.protocolVersion, '1.1')) return { keys: all };
  const cursor = params.cursor;
  let start = 0;
  if (cursor !== undefined) {
    // Binary search: the first key after the cursor.
    let hi = all.length;
    while (start < hi) {
      const mid = (start + hi) >>> 1;
      if (all[mid]! <= cursor) start = mid + 1;
      else hi = mid;
    }
  }
  const limit = params.limit ?? KV_LIST_MAX_PAGE;
  const keys: string[] = [];
  let size = 0;
  for (let i = start; i < all.length && keys.length < limit; i++) {
    size += JSON.stringify(all[i]).length + 1;
    if (size > KV_LIST_PAGE_BYTES && keys.length > 0) break;
    keys.push(all[i]!);
  }
  const more = start + keys.length < all.length;
  return more ? { keys, nextCursor: keys[keys.length - 1]! } : { keys };
}

/** `kv/compareAndSet` (1.1): atomic in the instance's write order. */
export async function kvCompareAndSet(ctx: HostCallContext, params: KvCompareAndSetParams, storage: PluginStorage): Promise<KvCompareAndSetResult> {
  return storage.kvCompareAndSet(ctx.conf.id, params.key, params.expected, params.value, ctx.fence);
}

/** `kv/increment` (1.1): atomic; a value that is not an integer is InvalidParams. */
export async function kvIncrement(ctx: HostCallContext, params: KvIncrementParams, storage: PluginStorage): Promise<KvIncrementResult> {
  return { value: await storage.kvIncrement(ctx.conf.id, params.key, params.delta ?? 1, ctx.fence) };
}
