import type { MessageStore } from '../message.js';
import type { MessageRecord } from '../../model/message.js';
import { type Db } from './db.js';
import { type Op, pad, prefixEnd, put, putRaw, del } from './ops.js';
import { REC, appKey, appPrefix, idOf, recKey, userKey, userPrefix } from './message-keys.js';
import { PurgeMarks, type PurgeMark } from './purge-marks.js';
import { Purger, type PurgerOptions } from './purger.js';

/** How many index entries a filtered listing reads per step while skipping purged applications. */
const SCAN_STEP = 256;

/**
 * Messages live only in LevelDB (they can be many); listing reads an index range then the
 * records. Bulk deletes never touch the keys in the request: they raise a purge mark (one
 * small batch, visible at once to every read here) and the `Purger` removes the keys in the
 * background. This store knows nothing of applications or users: their stores call it.
 */
export class LevelMessageStore implements MessageStore {
  readonly marks = new PurgeMarks();
  readonly purger: Purger;

  constructor(
    private readonly db: Db,
    purge: PurgerOptions = {},
  ) {
    this.purger = new Purger(db, this.marks, purge);
  }

  /** Ops writing a record with its own id into a data dir being built offline (import); the sequence is set by the importer. */
  importOps(rec: MessageRecord): Op[] {
    return [put(recKey(rec.id), rec), putRaw(appKey(rec.appId, rec.id), ''), putRaw(userKey(rec.userId, rec.id), String(rec.appId))];
  }

  /** Reads the pending purges and resumes them in the background (recovery after a crash). */
  async load(): Promise<void> {
    await this.marks.load(this.db);
    this.purger.kick();
  }

  /**
   * The record with a new id and the ops inserting it (record, both indexes, id sequence). The
   * id is allocated synchronously, so ids follow call order.
   */
  insertOps(input: Omit<MessageRecord, 'id'>): { record: MessageRecord; ops: Op[] } {
    const { id, op } = this.db.nextId('message');
    const record: MessageRecord = { id, ...input };
    return {
      record,
      ops: [op, put(recKey(id), record), putRaw(appKey(record.appId, id), ''), putRaw(userKey(record.userId, id), String(record.appId))],
    };
  }

  /** The message, unless missing or being purged. */
  async get(id: number): Promise<MessageRecord | undefined> {
    const m = await this.db.get<MessageRecord>(recKey(id));
    return m && this.marks.isVisible(m) ? m : undefined;
  }

  /** Newest first, ids below `since` when since > 0, at most `limit`. */
  async listByUser(userId: number, limit: number, since = 0): Promise<MessageRecord[]> {
    const prefix = userPrefix(userId);
    const range = this.range(prefix, this.marks.userUpTo(userId), since);
    const appMarks = this.marks.appMarksOfUser(userId);
    if (!appMarks) return this.records(await this.db.level.keys({ ...range, reverse: true, limit }).all());
    // Some of the user's applications are being purged: skip their entries (the index value is the appId).
    const keys: string[] = [];
    const it = this.db.level.iterator({ ...range, reverse: true });
    try {
      while (keys.length < limit) {
        const entries = await it.nextv(SCAN_STEP);
        if (entries.length === 0) break;
        for (const [k, appId] of entries) {
          if (idOf(k) > (appMarks.get(Number(appId))?.upTo ?? 0)) keys.push(k);
          if (keys.length === limit) break;
        }
      }
    } finally {
      await it.close();
    }
    return this.records(keys);
  }

  /** Newest first within one application of `userId`. */
  async listByApplication(appId: number, userId: number, limit: number, since = 0): Promise<MessageRecord[]> {
    const prefix = appPrefix(appId);
    const floor = Math.max(this.marks.appUpTo(appId), this.marks.userUpTo(userId));
    return this.records(await this.db.level.keys({ ...this.range(prefix, floor, since), reverse: true, limit }).all());
  }

  /**
   * The id of the application's `rank`-th newest visible message (1 = newest), or 0 when it has
   * fewer. Streams the index in steps, so memory stays bounded for any rank (retention by count).
   */
  async idAtRank(appId: number, userId: number, rank: number): Promise<number> {
    const prefix = appPrefix(appId);
    const floor = Math.max(this.marks.appUpTo(appId), this.marks.userUpTo(userId));
    const it = this.db.level.keys({ ...this.range(prefix, floor, 0), reverse: true });
    let seen = 0;
    try {
      for (;;) {
        const keys = await it.nextv(Math.min(1000, rank - seen));
        if (keys.length === 0) return 0;
        seen += keys.length;
        if (seen === rank) return idOf(keys[keys.length - 1]!);
      }
    } finally {
      await it.close();
    }
  }

  /**
   * The id of the newest message of the application dated before `cutoffMs`, scanning from the
   * oldest and stopping at the first younger one (dates follow ids), or 0 (retention by age).
   */
  async lastIdBefore(appId: number, userId: number, cutoffMs: number): Promise<number> {
    const prefix = appPrefix(appId);
    const floor = Math.max(this.marks.appUpTo(appId), this.marks.userUpTo(userId));
    const it = this.db.level.keys(this.range(prefix, floor, 0));
    let last = 0;
    try {
      for (;;) {
        const keys = await it.nextv(SCAN_STEP);
        if (keys.length === 0) return last;
        const recs = await this.db.getMany<MessageRecord>(keys.map((k) => recKey(idOf(k))));
        for (const r of recs) {
          if (!r) continue;
          if (!(Date.parse(r.date) < cutoffMs)) return last;
          last = r.id;
        }
      }
    } finally {
      await it.close();
    }
  }

  /** The index range of `prefix` above `floor` (purged) and below `since` (paging). */
  private range(prefix: string, floor: number, since: number): { gt?: string; gte?: string; lt: string } {
    const lower = floor > 0 ? { gt: prefix + pad(floor) } : { gte: prefix };
    return { ...lower, lt: since > 0 ? prefix + pad(since) : prefixEnd(prefix) };
  }

  private async records(indexKeys: string[]): Promise<MessageRecord[]> {
    const recs = await this.db.getMany<MessageRecord>(indexKeys.map((k) => recKey(idOf(k))));
    // A record can only be missing if it was deleted between the two reads.
    return recs.filter((r): r is MessageRecord => r !== undefined && this.marks.isVisible(r));
  }

  async page(afterId: number, limit: number): Promise<{ messages: MessageRecord[]; next: number | undefined }> {
    const entries = await this.db.level.iterator({ gt: recKey(afterId), lt: prefixEnd(REC), limit }).all();
    const all = entries.map(([, v]) => JSON.parse(v) as MessageRecord);
    return { messages: all.filter((m) => this.marks.isVisible(m)), next: all.length < limit ? undefined : all[all.length - 1]!.id };
  }

  /** Deletes one message; resolves to the removed record or undefined if it did not exist. */
  delete(id: number): Promise<MessageRecord | undefined> {
    return this.db.exclusive(async () => {
      const m = await this.get(id);
      if (m) await this.db.batch([del(recKey(m.id)), del(appKey(m.appId, m.id)), del(userKey(m.userId, m.id))]);
      return m;
    });
  }

  /**
   * Deletes every message of the user that exists now (DELETE /message): one small batch, the
   * rest in the background. Resolves to false when they were already being deleted.
   */
  deleteByUser(userId: number): Promise<boolean> {
    return this.db.exclusive(() => this.commitMarks([this.purgeUserPart(userId)]));
  }

  /** Deletes every message of the application that exists now (DELETE /application/:id/message). */
  deleteByApplication(appId: number, userId: number): Promise<boolean> {
    return this.db.exclusive(() => this.commitMarks([this.purgeApplicationPart(appId, userId)]));
  }

  /**
   * Deletes the application's messages with ids up to `upTo` (retention). No-op when they are
   * already being deleted.
   */
  deleteApplicationUpTo(appId: number, userId: number, upTo: number): Promise<boolean> {
    return this.db.exclusive(() => this.commitMarks([this.purgeApplicationPart(appId, userId, upTo)]));
  }

  private async commitMarks(parts: (MarkPart | undefined)[]): Promise<boolean> {
    const real = parts.filter((p): p is MarkPart => p !== undefined);
    if (real.length === 0) return false;
    await this.db.batch(real.map((p) => p.op));
    for (const p of real) p.commit();
    return true;
  }

  /**
   * For cascades inside the store lock: the op that deletes every message of the user existing
   * now, and `commit` to run after the caller's batch succeeded. Undefined when already covered.
   */
  purgeUserPart(userId: number): MarkPart | undefined {
    return this.part(this.marks.raiseUser(userId, this.db.lastId('message')));
  }

  /** As `purgeUserPart`, for one application (up to `upTo`, default: every message so far). */
  purgeApplicationPart(appId: number, userId: number, upTo = this.db.lastId('message')): MarkPart | undefined {
    return this.part(this.marks.raiseApp(appId, userId, upTo));
  }

  private part(raised: { op: Op; mark: PurgeMark } | undefined): MarkPart | undefined {
    if (!raised) return undefined;
    return {
      op: raised.op,
      commit: () => {
        this.marks.commit(raised.mark);
        this.purger.kick();
      },
    };
  }

  /** Stops the purger after its chunk in flight (pending purges resume at the next open). */
  close(): Promise<void> {
    return this.purger.close();
  }
}

/** A purge mark to put in a batch, and what to do once that batch is committed. */
export interface MarkPart {
  op: Op;
  commit: () => void;
}
