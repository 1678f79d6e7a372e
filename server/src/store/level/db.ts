import { Level } from 'level';
import { FlowError } from '../../errors.js';
import { type Op, pad, prefixEnd } from './ops.js';
import { Health } from '../health.js';
import { WriteGate } from '../write-gate.js';
import { openLevel } from './open-level.js';

const SEQ = 'meta!seq!';

/** The options of a batch that must survive a power cut (id reservations); see flush(). */
const SYNCED = { sync: true } as const;

/** Record key prefix of each entity with an id sequence: on open, the sequence is at least the highest stored id. */
const RECORD_PREFIX: Record<string, string> = { user: 'u!', client: 'c!', application: 'a!', message: 'm!', pluginconf: 'p!' };

/**
 * Ids are reserved in blocks: the persisted sequence is the end of the current block, written
 * with a synced batch when an id beyond it is allocated (one fsync per block). After any crash,
 * a power cut included, allocation resumes above the block, so an id given out before (and
 * perhaps seen by a client) is never given again; a restart skips the rest of the block.
 */
const ID_BLOCK = 100;

/** Reopen attempts after a write failure: 0.5 s, doubling, at most every 5 s. */
const RECOVERY_FIRST_MS = 500;
const RECOVERY_MAX_MS = 5_000;

export interface DbOptions {
  /** Told when the database turns unhealthy (a failed write) and healthy again (reopened and verified). */
  onHealth?: (healthy: boolean, err?: unknown) => void;
}

interface PendingBatch {
  ops: Op[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The LevelDB handle shared by the entity stores. It owns:
 * - the write queue: batches are committed one at a time, in the order they were submitted;
 *   batches that arrive while one is being written are merged into the next write (group
 *   commit). LevelDB would otherwise commit concurrent batches in any order (each runs on a
 *   libuv thread), and a persisted sequence could end below the highest stored id;
 * - id sequences: allocated synchronously in memory, persisted in blocks (ID_BLOCK): the write
 *   that first uses an id beyond the persisted block end also persists a new block end, synced,
 *   so the persisted value is never below an id in a committed or lost batch (a failed batch only
 *   burns ids). On open a sequence is also raised to the highest stored record of its entity, so
 *   ids never go back, whatever older versions wrote;
 * - health: a failed write (disk full, I/O error) may leave a partial record in LevelDB's log,
 *   after which further appends to that handle are lost at the next open ("checksum mismatch").
 *   So the first failure marks the database unhealthy: every write, and the reads that find the
 *   handle being replaced, fail with FLOW_ERR_STORE_UNAVAILABLE (HTTP 503) and ping() fails
 *   (/health red), while the handle is closed and reopened in the background (LevelDB's recovery
 *   drops the partial record) until a synced probe write and read-back succeed. Only acknowledged
 *   batches are in memory caches (they are updated after a successful write), and a failed batch
 *   never reaches LevelDB's memtable, so the caches stay exact across the reopen;
 * - `exclusive()`: a FIFO lock for read-check-write changes (uniqueness, cascades), so two
 *   requests cannot both pass a check and then both write;
 * - `track()`: writes that skip the lock (message inserts, the hot path) register here, and
 *   cascades call `drain()` before scanning so they never miss an in-flight insert.
 */
export class Db extends WriteGate {
  private seqs = new Map<string, number>();
  private persistedSeqs = new Map<string, number>();
  private queue: PendingBatch[] = [];
  private writing = false;
  private closed = false;
  private readonly health: Health;

  private constructor(
    private handle: Level<string, string>,
    private readonly dir: string,
    private readonly opts: DbOptions,
  ) {
    super();
    this.health = new Health({ recover: () => this.reopen(), firstMs: RECOVERY_FIRST_MS, maxMs: RECOVERY_MAX_MS, lost: 'write failed', onHealth: opts.onHealth });
  }

  /** The current LevelDB handle (replaced when the database is reopened after a failure). */
  get level(): Level<string, string> {
    return this.handle;
  }

  /** Whether writes are accepted (no failed write since the last verified open). */
  get healthy(): boolean {
    return this.health.healthy;
  }

  /** Opens (creating if needed) the database at `dir`; a second process gets FLOW_ERR_STORE_LOCKED. */
  static async open(dir: string, opts: DbOptions = {}): Promise<Db> {
    const db = new Db(await openLevel(dir), dir, opts);
    await db.loadSequences();
    return db;
  }

  private async loadSequences(): Promise<void> {
    const level = this.handle;
    for await (const [key, value] of level.iterator({ gte: SEQ, lt: prefixEnd(SEQ) })) {
      const entity = key.slice(SEQ.length);
      const n = Number(value);
      if (Number.isSafeInteger(n)) this.seqs.set(entity, Math.max(this.seqs.get(entity) ?? 0, n));
    }
    for (const [entity, prefix] of Object.entries(RECORD_PREFIX)) {
      const [last] = await level.keys({ gte: prefix, lt: prefixEnd(prefix), reverse: true, limit: 1 }).all();
      const n = last === undefined ? 0 : Number(last.slice(prefix.length));
      if (Number.isSafeInteger(n) && n > (this.seqs.get(entity) ?? 0)) this.seqs.set(entity, n);
    }
    for (const [entity, n] of this.seqs) this.persistedSeqs.set(entity, n);
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

  /** The last id handed out for `entity` (0 before the first): a watermark for "everything up to now". */
  lastId(entity: string): number {
    return this.seqs.get(entity) ?? 0;
  }

  /** A read on the current handle; while the database is unhealthy its errors are FLOW_ERR_STORE_UNAVAILABLE. */
  private async read<T>(fn: (level: Level<string, string>) => Promise<T>): Promise<T> {
    try {
      return await fn(this.handle);
    } catch (err) {
      if (!this.healthy) throw this.unavailable();
      throw err;
    }
  }

  async get<T>(key: string): Promise<T | undefined> {
    const v = await this.read((l) => l.get(key));
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  async getRaw(key: string): Promise<string | undefined> {
    return this.read((l) => l.get(key));
  }

  async getMany<T>(keys: string[]): Promise<(T | undefined)[]> {
    if (keys.length === 0) return [];
    const vs = await this.read((l) => l.getMany(keys));
    return vs.map((v) => (v === undefined ? undefined : (JSON.parse(v) as T)));
  }

  /** Keys with `prefix`, in byte order (or reversed), optionally bounded below `lt`. */
  async keys(prefix: string, opts: { reverse?: boolean; limit?: number; lt?: string } = {}): Promise<string[]> {
    return this.read((l) =>
      l.keys({ gte: prefix, lt: opts.lt ?? prefixEnd(prefix), reverse: opts.reverse ?? false, limit: opts.limit ?? -1 }).all(),
    );
  }

  async entries(prefix: string): Promise<[string, string][]> {
    return this.read((l) => l.iterator({ gte: prefix, lt: prefixEnd(prefix) }).all());
  }

  /** Commits `ops` atomically; resolves once they are in LevelDB's log. */
  batch(ops: Op[]): Promise<void> {
    if (this.closed) return Promise.reject(new FlowError('FLOW_ERR_STORE_CLOSED', 'the store is closed'));
    if (!this.healthy) return Promise.reject(this.unavailable());
    if (ops.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.writing || this.queue.length === 0) return;
    const group = this.queue.splice(0);
    if (!this.healthy) {
      for (const b of group) b.reject(this.unavailable());
      return;
    }
    // Sequence ops are written here, not as the callers built them: an id block is reserved.
    const ops = group.flatMap((b) => b.ops).filter((op) => !op.key.startsWith(SEQ));
    const moved: [string, number][] = [];
    for (const [entity, n] of this.seqs) {
      if (n > (this.persistedSeqs.get(entity) ?? 0)) {
        const ceiling = n + ID_BLOCK;
        moved.push([entity, ceiling]);
        ops.push({ type: 'put', key: SEQ + entity, value: String(ceiling) });
      }
    }
    this.writing = true;
    // A reservation is synced: after a power cut no id of it is handed out again. Other writes
    // pass no options at all: abstract-level copies the options object into every op it clones,
    // and `{ sync: false }` made that copy ~3× slower than none (bench/README.md, "HTTP").
    (moved.length > 0 ? this.handle.batch(ops, SYNCED) : this.handle.batch(ops)).then(
      () => {
        for (const [entity, n] of moved) if ((this.persistedSeqs.get(entity) ?? 0) < n) this.persistedSeqs.set(entity, n);
        this.writing = false;
        for (const b of group) b.resolve();
        this.flush();
      },
      (err: unknown) => {
        this.writing = false;
        this.health.fail(err);
        for (const b of group) b.reject(this.unavailable());
        this.flush();
      },
    );
  }

  private unavailable(): FlowError {
    return new FlowError('FLOW_ERR_STORE_UNAVAILABLE', 'the database is unavailable after a failed write (is the disk full?); it is being reopened', {
      cause: this.health.failure,
    });
  }

  /** Closes the damaged handle, opens a new one and proves it takes a synced write and reads it back. */
  private async reopen(): Promise<void> {
    if (this.closed) return;
    await this.handle.close().catch(() => undefined);
    const level = new Level<string, string>(this.dir, { valueEncoding: 'utf8' });
    this.handle = level;
    await level.open();
    const probe = SEQ + 'probe';
    const value = new Date().toISOString();
    await level.put(probe, value, { sync: true });
    if ((await level.get(probe)) !== value) throw new Error('the reopened database did not return the probe write');
    // Every sequence is persisted again by the next write: the failed writes may have carried the last ones.
    this.persistedSeqs.clear();
  }

  /** Throws unless the database is open and healthy and answers a read. */
  async ping(): Promise<void> {
    if (this.closed) throw new FlowError('FLOW_ERR_STORE_CLOSED', 'the store is closed');
    if (!this.healthy || this.handle.status !== 'open') throw this.unavailable();
    await this.read((l) => l.get(SEQ + 'ping'));
  }

  /** Waits for pending writes, then closes. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.stop();
    await this.settle();
    await this.health.settled();
    await this.handle.close();
  }
}
