import { FlowError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PgDb } from '../store/pg/pg-db.js';
import { CHANNEL, messagesPayloads } from './notify-payload.js';

/**
 * Tells the other replicas about the messages this one stored (cluster/notify-feed.ts). Not from
 * the INSERT's transaction: a transaction that NOTIFYs holds a database-wide lock through its
 * commit, which would serialise every message insert's WAL flush. The messages of one turn of
 * the event loop go out together after it (`messagesPayloads`: as few payloads as fit), one
 * burst after another, so they arrive in the order they were stored for each user. A replica
 * that dies between a commit and its announcement leaves that message to the others' sweep.
 */
export class MessageAnnouncer {
  private outgoing: { id: number; userId: number }[] = [];
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Pick<PgDb, 'query'>,
    /** This replica's origin in the payloads (its application_name). */
    private readonly origin: string,
    private readonly log: Logger,
  ) {}

  announce(message: { id: number; userId: number }): void {
    this.outgoing.push({ id: message.id, userId: message.userId });
    if (this.outgoing.length > 1) return;
    setImmediate(() => {
      const batch = this.outgoing.splice(0);
      this.sending = this.sending.then(async () => {
        for (const payload of messagesPayloads(batch, this.origin)) {
          await this.db.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]).catch((err: unknown) => {
            if (!(err instanceof FlowError && err.code === 'FLOW_ERR_STORE_UNAVAILABLE')) this.log.error({ err }, 'announcing new messages to other replicas failed');
          });
        }
      });
    });
  }

  /** Resolves once what was announced so far has been sent (after the current turn's burst). */
  async flushed(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    await this.sending;
  }
}
