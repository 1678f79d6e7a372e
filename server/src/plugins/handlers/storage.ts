import type { EmptyResult, InstanceParams, StorageLoadResult, StorageSaveParams } from '@flow/protocol';
import type { PluginStorage } from '../storage.js';
import type { HostCallContext } from './context.js';

/** `storage/load`: the instance's blob as base64, "" when never saved. */
export async function storageLoad(ctx: HostCallContext, _params: InstanceParams, storage: PluginStorage): Promise<StorageLoadResult> {
  return { data: (await storage.load(ctx.conf.id)).toString('base64') };
}

/** `storage/save`: replaces the blob; QuotaExceeded leaves the old one in place. */
export async function storageSave(ctx: HostCallContext, params: StorageSaveParams, storage: PluginStorage): Promise<EmptyResult> {
  await storage.save(ctx.conf.id, Buffer.from(params.data, 'base64'), ctx.fence);
  return {};
}
