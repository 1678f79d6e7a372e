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

export const KvListParams = z
  .object({ instanceId: InstanceId, prefix: z.string().max(256).optional().describe('Only keys starting with this.') })
  .meta({ id: 'KvListParams' });
export type KvListParams = z.infer<typeof KvListParams>;

export const KvListResult = z.object({ keys: z.array(z.string()).describe('Sorted by UTF-16 code unit.') }).meta({ id: 'KvListResult' });
export type KvListResult = z.infer<typeof KvListResult>;

export const KvList = defineRequest({
  method: 'kv/list',
  direction: 'pluginToHost',
  params: KvListParams,
  result: KvListResult,
  capability: 'storager',
  defaultTimeoutMs: 10_000,
  since: '1.0',
});
