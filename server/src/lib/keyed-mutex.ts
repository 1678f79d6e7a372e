/**
 * Serialises work per key: `run(key, fn)` starts `fn` after every earlier `fn` of the same key
 * has settled; other keys never wait for it. Holds an entry only while a key has work queued.
 * Used wherever one thing (an instance, a plugin's storage) must see one change at a time
 * without a lock across things (services/plugin-instances.ts, plugins/storage.ts).
 */
export class KeyedMutex<K> {
  private readonly tails = new Map<K, Promise<unknown>>();

  run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }
}
