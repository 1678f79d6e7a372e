import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@flow/protocol';
import { PluginStorage, type StorageStore } from './storage.js';

/** An in-memory stand-in for the plugin-conf store's storage methods. */
function memoryStore(): StorageStore & { blobs: Map<number, Buffer>; kv: Map<string, unknown> } {
  const blobs = new Map<number, Buffer>();
  const kv = new Map<string, unknown>();
  return {
    blobs,
    kv,
    getStorage: async (id) => blobs.get(id) ?? Buffer.alloc(0),
    setStorage: async (id, data) => void blobs.set(id, Buffer.from(data)),
    kvGet: async (id, key) => kv.get(`${id}/${key}`),
    kvSet: async (id, key, value) => void (value === undefined ? kv.delete(`${id}/${key}`) : kv.set(`${id}/${key}`, value)),
    kvList: async (id) => Object.fromEntries([...kv].filter(([k]) => k.startsWith(`${id}/`)).map(([k, v]) => [k.slice(String(id).length + 1), v])),
  } as StorageStore & { blobs: Map<number, Buffer>; kv: Map<string, unknown> };
}

describe('PluginStorage', () => {
  it('counts the blob and every key and value against one quota per instance', async () => {
    const store = memoryStore();
    const storage = new PluginStorage(store, 20);
    await storage.save(1, Buffer.alloc(10));
    await storage.kvSet(1, 'k', '123456789'); // 1 + 9 bytes: exactly full
    await expect(storage.kvSet(1, 'x', '')).rejects.toMatchObject({ code: ErrorCodes.QuotaExceeded, data: { limitBytes: 20, usedBytes: 20 } });
    await expect(storage.save(1, Buffer.alloc(11))).rejects.toMatchObject({ code: ErrorCodes.QuotaExceeded });
    expect(store.blobs.get(1)!.length).toBe(10);
    // Replacing a value counts the difference; shrinking always works; other instances have their own quota.
    await storage.kvSet(1, 'k', '1');
    await storage.save(1, Buffer.alloc(18));
    await storage.save(2, Buffer.alloc(20));
    expect(await storage.kvDelete(1, 'k')).toBe(true);
    expect(await storage.kvDelete(1, 'k')).toBe(false);
    await storage.kvSet(1, 'ab', '');
  });

  it('serialises concurrent writes of one instance so two cannot both pass the check', async () => {
    const storage = new PluginStorage(memoryStore(), 10);
    const results = await Promise.allSettled([storage.kvSet(1, 'a', '1234'), storage.kvSet(1, 'b', '1234'), storage.kvSet(1, 'c', '1234')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  });

  it('lists keys with a prefix in code-unit order', async () => {
    const storage = new PluginStorage(memoryStore(), 1000);
    for (const k of ['b', 'a2', 'a1', 'Z']) await storage.kvSet(1, k, 'v');
    expect(await storage.kvList(1)).toEqual(['Z', 'a1', 'a2', 'b']);
    expect(await storage.kvList(1, 'a')).toEqual(['a1', 'a2']);
  });
});
