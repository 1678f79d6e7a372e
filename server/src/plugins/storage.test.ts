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
    kvKeys: async (id, prefix = '') => [...kv.keys()].filter((k) => k.startsWith(`${id}/${prefix}`)).map((k) => k.slice(String(id).length + 1)),
    kvUsage: async (id) => {
      const own = [...kv].filter(([k]) => k.startsWith(`${id}/`));
      return { keys: own.length, bytes: own.reduce((n, [k, v]) => n + Buffer.byteLength(k.slice(String(id).length + 1)) + Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v)), 0) };
    },
  } as StorageStore & { blobs: Map<number, Buffer>; kv: Map<string, unknown> };
}

describe('PluginStorage', () => {
  it('counts the blob and every key and value against one quota per instance', async () => {
    const store = memoryStore();
    const storage = new PluginStorage(store, { quotaBytes: 20, keyOverheadBytes: 0 });
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
    const storage = new PluginStorage(memoryStore(), { quotaBytes: 10, keyOverheadBytes: 0 });
    const results = await Promise.allSettled([storage.kvSet(1, 'a', '1234'), storage.kvSet(1, 'b', '1234'), storage.kvSet(1, 'c', '1234')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  });

  it('lists keys with a prefix in code-unit order', async () => {
    const storage = new PluginStorage(memoryStore(), 1000);
    for (const k of ['b', 'a2', 'a1', 'Z']) await storage.kvSet(1, k, 'v');
    expect(await storage.kvList(1)).toEqual(['Z', 'a1', 'a2', 'b']);
    expect(await storage.kvList(1, 'a')).toEqual(['a1', 'a2']);
  });

  it('counts a per-key overhead, caps the number of keys and never holds the key set', async () => {
    const store = memoryStore();
    const storage = new PluginStorage(store, { quotaBytes: 10_000, keyOverheadBytes: 64, maxKeys: 50 });
    // 1-byte keys with empty values: the overhead, not their text, fills the quota.
    let stored = 0;
    for (let i = 0; i < 200; i++) {
      try {
        await storage.kvSet(1, String.fromCharCode(0x41 + (i % 26)) + (i >= 26 ? i : ''), '');
        stored++;
      } catch (err) {
        expect(err).toMatchObject({ code: ErrorCodes.QuotaExceeded });
      }
    }
    expect(stored).toBe(50);
    const small = new PluginStorage(memoryStore(), { quotaBytes: 1000, keyOverheadBytes: 64, maxKeys: 1000 });
    let fitted = 0;
    for (let i = 0; i < 100; i++) await small.kvSet(1, 'k' + i, '').then(() => fitted++, () => undefined);
    // 1000 / (64 + 2 or 3 bytes) keys, far below the 100 their text alone would allow.
    expect(fitted).toBe(15);
    // Usage survives a restart of the accounting (a new PluginStorage over the same store) exactly.
    const again = new PluginStorage(store, { quotaBytes: 10_000, keyOverheadBytes: 64, maxKeys: 50 });
    await expect(again.kvSet(1, 'new', '')).rejects.toMatchObject({ code: ErrorCodes.QuotaExceeded });
    expect(await again.kvDelete(1, 'A')).toBe(true);
    await again.kvSet(1, 'new', '');
  });

  it('counts the config text against the quota', async () => {
    const storage = new PluginStorage(memoryStore(), { quotaBytes: 100, keyOverheadBytes: 0, configBytes: () => 90 });
    await expect(storage.save(1, Buffer.alloc(11))).rejects.toMatchObject({ code: ErrorCodes.QuotaExceeded });
    await storage.save(1, Buffer.alloc(10));
    expect(await storage.configFits(1, 90)).toBe(true);
    expect(await storage.configFits(1, 91)).toBe(false);
  });
});
