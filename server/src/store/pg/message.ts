import type { MessageRecord } from '../../model/message.js';
import type { MessageStore, WriteFence } from '../message.js';
import { lastSequenceValue, OrderedIds } from './ids.js';
import type { PgDb, Queryable } from './pg-db.js';
import { PgPurger, type PgPurgerOptions } from './purger.js';
import { MESSAGE_COLUMNS, messageOf, messageValues, placeholders, type MessageRow } from './rows.js';

/** A message is visible unless a purge mark of its user or its application covers its id. */
const VISIBLE = `NOT EXISTS (SELECT 1 FROM purge_marks p WHERE (p.kind = 'u' AND p.target_id = m.user_id OR p.kind = 'a' AND p.target_id = m.app_id) AND m.id <= p.up_to)`;

/** A purge mark to write in the caller's transaction, and what to do once it committed. */
export interface PgMarkPart {
  write(q: Queryable): Promise<void>;
  commit(): void;
}

/**
 * Messages in PostgreSQL (`messages`, `purge_marks`). Reads filter out what a purge mark
 * covers, in SQL, so every server on the database sees a bulk delete at once; `PgPurger`
 * removes the rows in the background, as LevelDB's purger does.
 */
export class PgMessageStore implements MessageStore {
  readonly purger: PgPurger;
  private readonly ids: OrderedIds;

  constructor(
    private readonly db: PgDb,
    purge: PgPurgerOptions = {},
  ) {
    this.ids = new OrderedIds(db, 'message_id_seq');
    this.purger = new PgPurger(db, purge);
  }

  /** Resumes pending purges (recovery after a crash). */
  load(): Promise<void> {
    this.purger.kick();
    return Promise.resolve();
  }

  /**
   * Inserts a message (record and, when `lastUsed` is given, the application's lastUsed, in one
   * statement). The id is drawn in call order (`OrderedIds`). With `fence` (a plugin instance's
   * message, with replicas) the statement and the fence check share one transaction of their
   * own, so a lost lease refuses this message only (FLOW_ERR_LEASE_LOST), never another's.
   */
  async insert(input: Omit<MessageRecord, 'id'>, lastUsed?: string, fence?: WriteFence): Promise<MessageRecord> {
    const id = await this.ids.next();
    const record: MessageRecord = { id, ...input };
    const values = messageValues(record);
    const insert = `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES (${placeholders(values.length)})`;
    const statement: [string, unknown[]] =
      lastUsed === undefined ? [insert, values] : [`WITH ins AS (${insert}) UPDATE applications SET last_used = $${values.length + 1} WHERE id = $2`, [...values, lastUsed]];
    if (!fence) await this.db.query(...statement);
    else {
      // The check comes last: the lease is verified, and locked against a takeover, right before the commit.
      await this.db.tx(async (q) => {
        await q.query(...statement);
        await fence.check(q);
      });
    }
    return record;
  }

  async get(id: number): Promise<MessageRecord | undefined> {
    const { rows } = await this.db.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1 AND ${VISIBLE}`, [id]);
    return rows[0] && messageOf(rows[0]);
  }

  /** The visible messages among `ids`, in id order: one query for a burst of notifications. */
  async getMany(ids: readonly number[]): Promise<MessageRecord[]> {
    const { rows } = await this.db.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = ANY($1::bigint[]) AND ${VISIBLE} ORDER BY m.id`, [ids]);
    return rows.map(messageOf);
  }

  /** The visible messages of `userIds` with id above `afterId` (and at most `upTo`), oldest first, at most `limit` (a catch-up read). */
  async listOfUsersAfter(userIds: readonly number[], afterId: number, limit: number, upTo = Number.MAX_SAFE_INTEGER): Promise<MessageRecord[]> {
    const { rows } = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.user_id = ANY($1::bigint[]) AND m.id > $2 AND m.id <= $4 AND ${VISIBLE} ORDER BY m.id LIMIT $3`,
      [userIds, afterId, limit, upTo],
    );
    return rows.map(messageOf);
  }

  /** The highest message id committed so far (0 for none). */
  async lastCommittedId(): Promise<number> {
    const { rows } = await this.db.query<{ id: number | null }>('SELECT max(id) AS id FROM messages');
    return rows[0]?.id ?? 0;
  }

  async listByUser(userId: number, limit: number, since = 0): Promise<MessageRecord[]> {
    const { rows } = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.user_id = $1 AND ($2::bigint <= 0 OR m.id < $2) AND ${VISIBLE} ORDER BY m.id DESC LIMIT $3`,
      [userId, since, limit],
    );
    return rows.map(messageOf);
  }

  async listByApplication(appId: number, userId: number, limit: number, since = 0): Promise<MessageRecord[]> {
    const { rows } = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.app_id = $1 AND m.user_id = $2 AND ($3::bigint <= 0 OR m.id < $3) AND ${VISIBLE} ORDER BY m.id DESC LIMIT $4`,
      [appId, userId, since, limit],
    );
    return rows.map(messageOf);
  }

  async idAtRank(appId: number, userId: number, rank: number): Promise<number> {
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT m.id FROM messages m WHERE m.app_id = $1 AND m.user_id = $2 AND ${VISIBLE} ORDER BY m.id DESC OFFSET $3 LIMIT 1`,
      [appId, userId, rank - 1],
    );
    return rows[0]?.id ?? 0;
  }

  /** Dates follow ids: the newest id below the oldest visible message dated at or after the cutoff. */
  async lastIdBefore(appId: number, userId: number, cutoffMs: number): Promise<number> {
    const { rows } = await this.db.query<{ id: number | null }>(
      `SELECT max(m.id) AS id FROM messages m WHERE m.app_id = $1 AND m.user_id = $2 AND ${VISIBLE}
         AND m.id < COALESCE((SELECT min(y.id) FROM messages y WHERE y.app_id = $1 AND y.date >= $3 AND NOT EXISTS (
               SELECT 1 FROM purge_marks p WHERE (p.kind = 'u' AND p.target_id = y.user_id OR p.kind = 'a' AND p.target_id = y.app_id) AND y.id <= p.up_to)), 'Infinity'::numeric)`,
      [appId, userId, new Date(cutoffMs).toISOString()],
    );
    return rows[0]?.id ?? 0;
  }

  async page(afterId: number, limit: number): Promise<{ messages: MessageRecord[]; next: number | undefined }> {
    const { rows } = await this.db.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id > $1 AND ${VISIBLE} ORDER BY m.id LIMIT $2`, [afterId, limit]);
    return { messages: rows.map(messageOf), next: rows.length < limit ? undefined : rows[rows.length - 1]!.id };
  }

  delete(id: number): Promise<MessageRecord | undefined> {
    return this.db.exclusive(async () => {
      const m = await this.get(id);
      if (m) await this.db.query('DELETE FROM messages WHERE id = $1', [id]);
      return m;
    });
  }

  deleteByUser(userId: number): Promise<boolean> {
    return this.db.exclusive(async () => this.commitMark(await this.purgeUserMark(userId)));
  }

  deleteByApplication(appId: number, userId: number): Promise<boolean> {
    return this.db.exclusive(async () => this.commitMark(await this.purgeApplicationMark(appId, userId)));
  }

  deleteApplicationUpTo(appId: number, userId: number, upTo: number, fence?: WriteFence): Promise<boolean> {
    return this.db.exclusive(async () => this.commitMark(await this.purgeApplicationMark(appId, userId, upTo), fence));
  }

  private async commitMark(part: PgMarkPart | undefined, fence?: WriteFence): Promise<boolean> {
    if (!part) return false;
    await this.db.tx(async (q) => {
      await fence?.check(q);
      await part.write(q);
    });
    part.commit();
    return true;
  }

  /**
   * The mark deleting every message of the user existing now (inserts in flight are waited
   * for first, so they are covered), or undefined when one at least as high is pending.
   */
  async purgeUserMark(userId: number): Promise<PgMarkPart | undefined> {
    await this.db.drain();
    const upTo = await lastSequenceValue(this.db, 'message_id_seq');
    const { rows } = await this.db.query<{ up_to: number }>("SELECT up_to FROM purge_marks WHERE kind = 'u' AND target_id = $1", [userId]);
    if (upTo === 0 || (rows[0] && rows[0].up_to >= upTo)) return undefined;
    return this.markPart('u', userId, userId, upTo);
  }

  async purgeApplicationMark(appId: number, userId: number, upTo?: number): Promise<PgMarkPart | undefined> {
    if (upTo === undefined) {
      await this.db.drain();
      upTo = await lastSequenceValue(this.db, 'message_id_seq');
    }
    const { rows } = await this.db.query<{ kind: string; up_to: number }>(
      "SELECT kind, up_to FROM purge_marks WHERE (kind = 'a' AND target_id = $1) OR (kind = 'u' AND target_id = $2)",
      [appId, userId],
    );
    if (upTo === 0 || rows.some((r) => r.up_to >= upTo)) return undefined;
    return this.markPart('a', appId, userId, upTo);
  }

  private markPart(kind: 'u' | 'a', target: number, userId: number, upTo: number): PgMarkPart {
    return {
      write: async (q) => {
        await q.query(
          'INSERT INTO purge_marks (kind, target_id, user_id, up_to) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, target_id) DO UPDATE SET up_to = GREATEST(purge_marks.up_to, EXCLUDED.up_to)',
          [kind, target, userId, upTo],
        );
      },
      commit: () => this.purger.kick(),
    };
  }

  /** Stops the purger after its chunk in flight (pending purges resume at the next open). */
  close(): Promise<void> {
    return this.purger.close();
  }
}
