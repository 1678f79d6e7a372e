import type { EmptyResult, KvDeleteResult, KvGetResult, KvKeyParams, KvListParams, KvListResult, KvSetParams } from '@flow/protocol';
import type { PluginStorage } from '../storage.js';
import type { HostCallContext } from './context.js';

/** `kv/get`: the value, or null when the key is not set. */
export async function kvGet(ctx: HostCallContext, params: KvKeyParams, storage: PluginStorage): Promise<KvGetResult> {
  return { value: await storage.kvGet(ctx.conf.id, params.key) };
}

/** `kv/set`: QuotaExceeded changes nothing. */
export async function kvSet(ctx: HostCallContext, params: KvSetParams, storage: PluginStorage): Promise<EmptyResult> {
  await storage.kvSet(ctx.conf.id, params.key, params.value);
  return {};
}

/** `kv/delete`: whether the key existed. */
export async function kvDelete(ctx: HostCallContext, params: KvKeyParams, storage: PluginStorage): Promise<KvDeleteResult> {
  return { deleted: await storage.kvDelete(ctx.conf.id, params.key) };
}

/** `kv/list`: keys (with the prefix), sorted by UTF-16 code unit. */
export async function kvList(ctx: HostCallContext, params: KvListParams, storage: PluginStorage): Promise<KvListResult> {
  return { keys: await storage.kvList(ctx.conf.id, params.prefix) };
}
