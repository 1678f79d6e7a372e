import { z } from 'zod';
import { defineRequest } from './define.js';
import { Base64, EmptyResult, InstanceId, InstanceParams } from './common.js';

/**
 * Two kinds of per-instance storage, both durable before the response is sent and both
 * counted against one quota (`HostLimits.storageQuotaBytes`):
 * - the blob: Gotify's Storager, one opaque byte string replaced whole;
 * - key-value: small named values, so a plugin does not rewrite everything to change one.
 */
export const StorageKey = z.string().min(1).max(256).describe('1 to 256 characters.');

export const StorageLoadResult = z
  .object({ data: Base64.describe('The blob as base64; "" when nothing was saved.') })
  .meta({ id: 'StorageLoadResult' });
export type StorageLoadResult = z.infer<typeof StorageLoadResult>;

export const StorageLoad = defineRequest({
  method: 'storage/load',
  direction: 'pluginToHost',
  params: InstanceParams,
  result: StorageLoadResult,
  capability: 'storager',
  defaultTimeoutMs: 10_000,
  since: '1.0',
});

export const StorageSaveParams = z.object({ instanceId: InstanceId, data: Base64 }).meta({ id: 'StorageSaveParams' });
export type StorageSaveParams = z.infer<typeof StorageSaveParams>;

/** Replaces the blob. Over the quota: QuotaExceeded and the old blob stays. */
export const StorageSave = defineRequest({
  method: 'storage/save',
  direction: 'pluginToHost',
  params: StorageSaveParams,
  result: EmptyResult,
  capability: 'storager',
  defaultTimeoutMs: 10_000,
  since: '1.0',
});

export const KvKeyParams = z.object({ instanceId: InstanceId, key: StorageKey }).meta({ id: 'KvKeyParams' });
export type KvKeyParams = z.infer<typeof KvKeyParams>;

export const KvGetResult = z.object({ value: z.string().nullable().describe('null when the key is not set.') }).meta({ id: 'KvGetResult' });
export type KvGetResult = z.infer<typeof KvGetResult>;

export const KvGet = defineRequest({
  method: 'kv/get',
  direction: 'pluginToHost',
  params: KvKeyParams,
  result: KvGetResult,
  capability: 'storager',
  defaultTimeoutMs: 10_000,
  since: '1.0',
});

export const KvSetParams = z.object({ instanceId: InstanceId, key: StorageKey, value: z.string() }).meta({ id: 'KvSetParams' });
export type KvSetParams = z.infer<typeof KvSetParams>;

/** Sets a key. Over the quota: QuotaExceeded and nothing changes. */
export const KvSet = defineRequest({
  method: 'kv/set',
  direction: 'pluginToHost',
  params: KvSetParams,
  result: EmptyResult,
  capability: 'storager',
  defaultTimeoutMs: 10_000,
  since: '1.0',
});

export const KvDeleteResult = z.object({ deleted: z.boolean().describe('false when the key was not set.') }).meta({ id: 'KvDeleteResult' });
export type KvDeleteResult = z.infer<typeof KvDeleteResult>;

export const KvDelete = defineRequest({
  method: 'kv/delete',
  direction: 'pluginToHost',
  params: KvKeyParams,
  result: KvDeleteResult,
  capability: 'storager',
  defaultTimeoutMs: 10_000,
  since: '1.0',
});

/** Most keys in one `kv/list` page (1.1), so an answer stays far below the frame limit: 1000 keys of 256 characters escaped at worst 6 bytes each are ~1.5 MB. */
export const KV_LIST_MAX_PAGE = 1000;

export const KvListParams = z
  .object({
    instanceId: InstanceId,
    prefix: z.string().max(256).optional().describe('Only keys starting with this.'),
    cursor: z.string().max(256).optional().describe('Since 1.1: the `nextCursor` of the previous page; absent for the first page.'),
    limit: z.number().int().min(1).max(KV_LIST_MAX_PAGE).optional().describe(`Since 1.1: most keys in this page, 1-${KV_LIST_MAX_PAGE} (default ${KV_LIST_MAX_PAGE}).`),
  })
  .meta({ id: 'KvListParams' });
export type KvListParams = z.infer<typeof KvListParams>;

export const KvListResult = z
  .object({
    keys: z.array(z.string()).describe('Sorted by UTF-16 code unit.'),
    nextCursor: z.string().optional().describe('Since 1.1: present when more keys follow; pass it as `cursor` to get them.'),
  })
  .meta({ id: 'KvListResult' });
export type KvListResult = z.infer<typeof KvListResult>;

/**
 * Keys of the instance, sorted. On a 1.1 connection the answer is one page (at most `limit`
 * keys, `nextCursor` when more follow); on 1.0 every key in one answer.
 */
export const KvList = defineRequest({
  method: 'kv/list',
  direction: 'pluginToHost',
  params: KvListParams,
  result: KvListResult,
  capability: 'storager',
  defaultTimeoutMs: 10_000,
  since: '1.0',
});

export const KvCompareAndSetParams = z
  .object({
    instanceId: InstanceId,
    key: StorageKey,
    expected: z.string().nullable().describe('The value the key must hold for the write to happen; null: the key must not be set.'),
    value: z.string().nullable().describe('The new value; null deletes the key.'),
  })
  .meta({ id: 'KvCompareAndSetParams' });
export type KvCompareAndSetParams = z.infer<typeof KvCompareAndSetParams>;

export const KvCompareAndSetResult = z
  .object({
    swapped: z.boolean().describe('true when the key held `expected` and now holds `value`.'),
    value: z.string().nullable().describe('The value the key holds after the call (the new one, or the one that did not match); null when not set.'),
  })
  .meta({ id: 'KvCompareAndSetResult' });
export type KvCompareAndSetResult = z.infer<typeof KvCompareAndSetResult>;

/**
 * Atomic compare-and-set (1.1): writes `value` only if the key holds `expected`, with no other
 * write of the instance in between, so concurrent webhooks need no plugin-side lock.
 * QuotaExceeded changes nothing.
 */
export const KvCompareAndSet = defineRequest({
  method: 'kv/compareAndSet',
  direction: 'pluginToHost',
  params: KvCompareAndSetParams,
  result: KvCompareAndSetResult,
  capability: 'storager',
  defaultTimeoutMs: 10_000,
  since: '1.1',
});

const SafeInteger = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

export const KvIncrementParams = z
  .object({
    instanceId: InstanceId,
    key: StorageKey,
    delta: SafeInteger.optional().describe('Added to the value (default 1; negative subtracts).'),
  })
  .meta({ id: 'KvIncrementParams' });
export type KvIncrementParams = z.infer<typeof KvIncrementParams>;

export const KvIncrementResult = z.object({ value: SafeInteger.describe('The value after the increment.') }).meta({ id: 'KvIncrementResult' });
export type KvIncrementResult = z.infer<typeof KvIncrementResult>;

/**
 * Atomic increment (1.1): the key's value, a decimal integer string (an unset key counts as 0),
 * plus `delta`, stored as a decimal string and returned as a number. A value that is not an
 * integer, or a result beyond ±(2^53−1), is InvalidParams and changes nothing.
 */
export const KvIncrement = defineRequest({
  method: 'kv/increment',
  direction: 'pluginToHost',
  params: KvIncrementParams,
  result: KvIncrementResult,
  capability: 'storager',
  defaultTimeoutMs: 10_000,
  since: '1.1',
});
