import type { MessageRecord } from '../model/message.js';
import type { Queryable } from './pg/pg-db.js';

/**
 * Proof, checked inside a write's own transaction, that the writer still holds the lease it acts
 * under (cluster/lease.ts `leaseFence`): `check` throws FLOW_ERR_LEASE_LOST otherwise and the
 * write is rolled back. Only PostgreSQL has fences: a LevelDB server is the only replica.
 */
export interface WriteFence {
  check(tx: Queryable): Promise<void>;
}

/**
 * Messages, read from the database (they can be many). Bulk deletes raise a durable purge mark
 * ("this user's / application's messages with id ≤ upTo are deleted") that every read honours at
 * once; the messages themselves are removed in the background in bounded chunks.
 */
export interface MessageStore {
  /** The message, unless missing or being purged. */
  get(id: number): Promise<MessageRecord | undefined>;
  /** Newest first, ids below `since` when since > 0, at most `limit`. */
  listByUser(userId: number, limit: number, since?: number): Promise<MessageRecord[]>;
  /** Newest first within one application of `userId`. */
  listByApplication(appId: number, userId: number, limit: number, since?: number): Promise<MessageRecord[]>;
  /** The id of the application's `rank`-th newest visible message (1 = newest), or 0 when it has fewer. */
  idAtRank(appId: number, userId: number, rank: number): Promise<number>;
  /** The id of the newest message of the application dated before `cutoffMs`, or 0. */
  lastIdBefore(appId: number, userId: number, cutoffMs: number): Promise<number>;
  /** Deletes one message; resolves to the removed record or undefined if it did not exist. */
  delete(id: number): Promise<MessageRecord | undefined>;
  /** DELETE /message: every message of the user existing now. False when they were already being deleted. */
  deleteByUser(userId: number): Promise<boolean>;
  /** DELETE /application/:id/message. */
  deleteByApplication(appId: number, userId: number): Promise<boolean>;
  /**
   * The application's messages with ids up to `upTo` (retention); false when already being
   * deleted. With `fence` (the leader's, on PostgreSQL) the mark is written only while it holds.
   */
  deleteApplicationUpTo(appId: number, userId: number, upTo: number, fence?: WriteFence): Promise<boolean>;
  /**
   * Visible messages with ids above `afterId`, oldest first, at most `limit` (exports such as
   * `flow migrate`); `next` is the id to continue after, undefined at the end.
   */
  page(afterId: number, limit: number): Promise<{ messages: MessageRecord[]; next: number | undefined }>;
  /** The background removal of bulk-deleted messages. */
  readonly purger: { idle(): Promise<void> };
}
