import { FlowError } from '../errors.js';
import type { MessageRecord } from '../model/message.js';
import { type Db, type Op, pad, put, putRaw, del } from './db.js';

// Keys: m!<id> → record; a-m!<appId>!<id> → ''; u-m!<userId>!<id> → appId.
// Both indexes end in the fixed-width id, so a reverse scan is newest first and `since`
// (exclusive upper bound) is a plain key bound.
const REC = 'm!';
const BY_APP = 'a-m!';
const BY_USER = 'u-m!';

const appKey = (appId: number, id: number) => BY_APP + pad(appId) + '!' + pad(id);
const userKey = (userId: number, id: number) => BY_USER + pad(userId) + '!' + pad(id);
const idOf = (key: string) => Number(key.slice(key.lastIndexOf('!') + 1));

/** What the message store asks the application store (a port, so the two do not import each other). */
export interface MessageGate {
  /** True while messages may be added to the application (it exists and is not being deleted). */
  acceptsMessages(appId: number): boolean;
}

/** Messages live only in LevelDB (they can be many); listing reads an index range then the records. */
export class MessageStore {
  constructor(
    private readonly db: Db,
    private readonly applications: () => MessageGate,
  ) {}

  /**
   * Inserts a message: record, both indexes and the id sequence in one batch, plus `extraOps`
   * (e.g. the application's lastUsed). This is the hot path, so it skips the store lock; the
   * application check and the tracking are synchronous, so a concurrent application delete
   * either refuses this insert or waits for it and deletes it too.
   */
  create(input: Omit<MessageRecord, 'id'>, extraOps: () => Op[] = () => []): Promise<MessageRecord> {
    if (!this.applications().acceptsMessages(input.appId)) {
      return Promise.reject(new FlowError('FLOW_ERR_NOT_FOUND', 'application does not exist'));
    }
    const { id, op } = this.db.nextId('message');
    const rec: MessageRecord = { id, ...input };
    const ops = [op, put(REC + pad(id), rec), putRaw(appKey(rec.appId, id), ''), putRaw(userKey(rec.userId, id), String(rec.appId)), ...extraOps()];
    return this.db.track(this.db.batch(ops)).then(() => rec);
  }

  get(id: number): Promise<MessageRecord | undefined> {
    return this.db.get<MessageRecord>(REC + pad(id));
  }

  /** Newest first, ids below `since` when since > 0, at most `limit`. */
  listByUser(userId: number, limit: number, since = 0): Promise<MessageRecord[]> {
    return this.page(BY_USER + pad(userId) + '!', limit, since);
  }

  listByApplication(appId: number, limit: number, since = 0): Promise<MessageRecord[]> {
    return this.page(BY_APP + pad(appId) + '!', limit, since);
  }

  private async page(prefix: string, limit: number, since: number): Promise<MessageRecord[]> {
    const keys = await this.db.keys(prefix, { reverse: true, limit, lt: since > 0 ? prefix + pad(since) : undefined });
    const recs = await this.db.getMany<MessageRecord>(keys.map((k) => REC + pad(idOf(k))));
    // A record can only be missing if it was deleted between the two reads.
    return recs.filter((r): r is MessageRecord => r !== undefined);
  }

  private recordOps(m: { id: number; appId: number; userId: number }): Op[] {
    return [del(REC + pad(m.id)), del(appKey(m.appId, m.id)), del(userKey(m.userId, m.id))];
  }

  /** Deletes one message; resolves to the removed record or undefined if it did not exist. */
  delete(id: number): Promise<MessageRecord | undefined> {
    return this.db.exclusive(async () => {
      const m = await this.get(id);
      if (m) await this.db.batch(this.recordOps(m));
      return m;
    });
  }

  /** Deletes all messages of the user (DELETE /message) in one batch. */
  deleteByUser(userId: number): Promise<number> {
    return this.db.exclusive(async () => {
      await this.db.drain();
      const ops = await this.deleteByUserOps(userId);
      await this.db.batch(ops);
      return ops.length / 3;
    });
  }

  /** Deletes all messages of one application (DELETE /application/:id/message) in one batch. */
  deleteByApplication(appId: number, userId: number): Promise<number> {
    return this.db.exclusive(async () => {
      await this.db.drain();
      const ops = await this.deleteByApplicationOps(appId, userId);
      await this.db.batch(ops);
      return ops.length / 3;
    });
  }

  /** Ops removing every message of the user (call inside the lock, after drain). */
  async deleteByUserOps(userId: number): Promise<Op[]> {
    const entries = await this.db.entries(BY_USER + pad(userId) + '!');
    return entries.flatMap(([k, appId]) => this.recordOps({ id: idOf(k), appId: Number(appId), userId }));
  }

  /** Ops removing every message of the application (call inside the lock, after drain). */
  async deleteByApplicationOps(appId: number, userId: number): Promise<Op[]> {
    const keys = await this.db.keys(BY_APP + pad(appId) + '!');
    return keys.flatMap((k) => this.recordOps({ id: idOf(k), appId, userId }));
  }
}
