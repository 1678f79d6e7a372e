import { Level } from 'level';
import { FlowError } from '../errors.js';

/** One LevelDB write; a change that touches several keys is always one `batch` of these. */
export type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/** Fixed-width ids so LevelDB's byte order is numeric order (newest first = reverse scan). */
export const pad = (id: number): string => id.toString().padStart(16, '0');

const SEQ = 'meta!seq!';

/**
 * Exclusive upper bound of all keys starting with `prefix`: the prefix with its last character
 * incremented. (`prefix + '\xff'` would be wrong: keys are UTF-8, and any key continuing with a
 * character from U+0100 up sorts above it.)
 */
export const prefixEnd = (prefix: string): string =>
  prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

/**
 * The LevelDB handle shared by the entity stores. It owns:
 * - id sequences: allocated synchronously in memory, persisted by putting `meta!seq!<entity>`
 *   into the same batch as the record, so ids are monotonic across restarts and a failed
 *   batch only burns an id;
 * - `exclusive()`: a FIFO lock for read-check-write changes (uniqueness, cascades), so two
 *   requests cannot both pass a check and then both write;
 * - `track()`: writes that skip the lock (message inserts, the hot path) register here, and
 *   cascades call `drain()` before scanning so they never miss an in-flight insert.
 */
export class Db {
  private seqs = new Map<string, number>();
  private tail: Promise<unknown> = Promise.resolve();
  private inflight = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(readonly level: Level<string, string>) {}

  /** Opens (creating if needed) the database at `dir`; a second process gets FLOW_ERR_STORE_LOCKED. */
  static async open(dir: string): Promise<Db> {
    const level = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    try {
      await level.open();
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      if ((err as { code?: string }).code === 'LEVEL_LOCKED' || cause?.code === 'LEVEL_LOCKED') {
        throw new FlowError(
          'FLOW_ERR_STORE_LOCKED',
          `data dir is in use: ${dir} is locked by another Flow process; stop it or choose another datadir`,
          { cause: err },
        );
      }
      throw err;
    }
    const db = new Db(level);
    for await (const [key, value] of level.iterator({ gte: SEQ, lt: prefixEnd(SEQ) })) {
      db.seqs.set(key.slice(SEQ.length), Number(value));
    }
    return db;
  }

  /** Next id of `entity` plus the op that persists the sequence; put both in one batch. */
  nextId(entity: string): { id: number; op: Op } {
    const id = (this.seqs.get(entity) ?? 0) + 1;
    this.seqs.set(entity, id);
    return { id, op: { type: 'put', key: SEQ + entity, value: String(id) } };
  }

  /**
   * The op that makes `entity`'s next id `lastId + 1` (for building a data dir offline, e.g. an
   * import that keeps the source's ids). Memory follows only if the sequence moves forward.
   */
  sequenceOp(entity: string, lastId: number): Op {
    if (lastId > (this.seqs.get(entity) ?? 0)) this.seqs.set(entity, lastId);
    return { type: 'put', key: SEQ + entity, value: String(this.seqs.get(entity) ?? 0) };
  }

  async get<T>(key: string): Promise<T | undefined> {
    const v = await this.level.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  async getMany<T>(keys: string[]): Promise<(T | undefined)[]> {
    if (keys.length === 0) return [];
    const vs = await this.level.getMany(keys);
    return vs.map((v) => (v === undefined ? undefined : (JSON.parse(v) as T)));
  }

  /** Keys with `prefix`, in byte order (or reversed), optionally bounded below `lt`. */
  async keys(prefix: string, opts: { reverse?: boolean; limit?: number; lt?: string } = {}): Promise<string[]> {
    return this.level
      .keys({ gte: prefix, lt: opts.lt ?? prefixEnd(prefix), reverse: opts.reverse ?? false, limit: opts.limit ?? -1 })
      .all();
  }

  async entries(prefix: string): Promise<[string, string][]> {
    return this.level.iterator({ gte: prefix, lt: prefixEnd(prefix) }).all();
  }

  async batch(ops: Op[]): Promise<void> {
    if (this.closed) throw new FlowError('FLOW_ERR_STORE_CLOSED', 'the store is closed');
    if (ops.length > 0) await this.level.batch(ops);
  }

  /** Runs `fn` after every earlier exclusive section has finished. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Registers a lock-free write so `drain()` can wait for it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Waits for every tracked write started before this call. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  async ping(): Promise<void> {
    if (this.closed || this.level.status !== 'open') throw new FlowError('FLOW_ERR_STORE_CLOSED', 'the store is closed');
    await this.level.get(SEQ + 'ping');
  }

  /** Waits for pending writes, then closes. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail.catch(() => undefined);
    await this.drain();
    await this.level.close();
  }
}

/** One store's share of a cascading delete: its ops, and memory updates to apply after the batch. */
export interface CascadePart {
  ops: Op[];
  commit: () => void;
  abort: () => void;
}

export const put = (key: string, value: unknown): Op => ({ type: 'put', key, value: JSON.stringify(value) });
export const putRaw = (key: string, value: string): Op => ({ type: 'put', key, value });
export const del = (key: string): Op => ({ type: 'del', key });
