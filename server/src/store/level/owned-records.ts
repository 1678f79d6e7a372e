import { type Db } from './db.js';
import { type Op, pad, put, putRaw, del } from './ops.js';
import { OwnedCache, type OwnedRecord } from '../owned-cache.js';
import type { TokenRecordWrites } from '../cached/owned-store.js';

/**
 * An entity's memory copy (`OwnedCache`) plus the LevelDB ops that keep the three keys of a
 * record together: `<rec><id>` → record JSON; `<byToken><token>` → id; `<byUser><userId>!<id>` → ''.
 */
export class OwnedRecords<T extends OwnedRecord> extends OwnedCache<T> implements TokenRecordWrites<T> {
  constructor(
    private readonly db: Db,
    /** The key prefixes, and the id sequence new records take their ids from. */
    private readonly prefix: { rec: string; byToken: string; byUser: string; sequence: string },
  ) {
    super();
  }

  /** Fills memory from the three key ranges; call once at open. */
  async load(): Promise<void> {
    const { db } = this;
    const { rec, byToken, byUser } = this.prefix;
    for (const [, v] of await db.entries(rec)) {
      const r = JSON.parse(v) as T;
      this.set(r);
    }
    for (const [k, v] of await db.entries(byToken)) this.indexToken(k.slice(byToken.length), Number(v));
    for (const k of await db.keys(byUser)) {
      const [uid, id] = k.slice(byUser.length).split('!').map(Number) as [number, number];
      this.index(uid, id);
    }
  }

  /** Ops writing a new record with both index keys. */
  insertOps(r: T): Op[] {
    const { rec, byToken, byUser } = this.prefix;
    return [put(rec + pad(r.id), r), putRaw(byToken + r.token, String(r.id)), putRaw(byUser + pad(r.userId) + '!' + pad(r.id), '')];
  }

  /** Writes a new record under the sequence's next id, with both index keys, in one batch. */
  async insert(input: Omit<T, 'id'>): Promise<T> {
    const { id, op } = this.db.nextId(this.prefix.sequence);
    const rec = { ...input, id } as T;
    await this.db.batch([op, ...this.insertOps(rec)]);
    return rec;
  }

  /** Rotates the record's token in one batch. */
  writeToken(cur: T, next: T): Promise<void> {
    return this.db.batch(this.retokenOps(cur, next));
  }

  /** Op rewriting the record only: token and owner never change, so the index keys stay. */
  updateOp(r: T): Op {
    return put(this.prefix.rec + pad(r.id), r);
  }

  /** Ops deleting the record and both index keys. */
  deleteOps(r: T): Op[] {
    const { rec, byToken, byUser } = this.prefix;
    return [del(rec + pad(r.id)), del(byToken + r.token), del(byUser + pad(r.userId) + '!' + pad(r.id))];
  }

  /** Ops replacing the record's token (rotation): the record and the token index key. */
  retokenOps(cur: T, next: T): Op[] {
    const { rec, byToken } = this.prefix;
    return [put(rec + pad(next.id), next), del(byToken + cur.token), putRaw(byToken + next.token, String(next.id))];
  }
}
