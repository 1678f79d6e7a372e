import type { Logger } from '../log.js';
import type { MessageRecord } from '../model/message.js';
import type { IdWatermark } from './id-watermark.js';

/** A catch-up reads at most this many messages per query, and this many queries. */
const CATCH_UP_PAGE = 1_000;
const CATCH_UP_PAGES = 10;
/** How long ids delivered by a catch-up are remembered, to drop their notifications if they still come. */
const CAUGHT_UP_MS = 60_000;

export interface CatchUpDeps {
  messages: {
    /** The visible messages of `userIds` with ids above `afterId` (and at most `upTo`), oldest first, at most `limit`. */
    listOfUsersAfter(userIds: readonly number[], afterId: number, limit: number, upTo?: number): Promise<MessageRecord[]>;
  };
  watermark: IdWatermark;
  /** The users with a subscriber on this replica now. */
  users(): number[];
  /** Hands one message to the local subscribers. */
  emit(message: MessageRecord): void;
  now: () => number;
  log: Logger;
}

/**
 * Reading back, from the watermark, the messages of local subscribers that no notification
 * brought (cluster/notify-feed.ts): after LISTEN was lost, and periodically for the messages
 * of a replica that died between a commit and its announcement. Ids it delivers are remembered
 * for a while, so a notification that still arrives for one is dropped, not delivered twice.
 */
export class CatchUp {
  /** Ids delivered by a catch-up → when to forget them. */
  private readonly delivered = new Map<number, number>();
  /** Messages delivered by catch-ups so far (diagnostics, tests). */
  count = 0;

  constructor(private readonly deps: CatchUpDeps) {}

  /** True when a catch-up already delivered `id`. */
  has(id: number): boolean {
    return this.delivered.has(id);
  }

  /**
   * Delivers the local subscribers' messages above the watermark (up to `upTo` when given) that
   * were neither seen nor caught up before; returns how many, and whether it read them all
   * (`complete`: a catch-up stops after CATCH_UP_PAGES pages). `quiet`: no log line when none.
   */
  async run(opts: { upTo?: number; quiet?: boolean } = {}): Promise<{ reads: number; delivered: number; complete: boolean }> {
    const { watermark } = this.deps;
    const now = this.deps.now();
    for (const [id, until] of this.delivered) if (until <= now) this.delivered.delete(id);
    const users = [...new Set(this.deps.users())];
    if (users.length === 0) return { reads: 0, delivered: 0, complete: true };
    const from = watermark.mark;
    let after = from;
    let reads = 0;
    let delivered = 0;
    let complete = false;
    for (let page = 0; page < CATCH_UP_PAGES; page++) {
      reads++;
      const messages = await this.deps.messages.listOfUsersAfter(users, after, CATCH_UP_PAGE, opts.upTo);
      for (const m of messages) {
        if (!watermark.has(m.id) && !this.delivered.has(m.id)) {
          this.deps.emit(m);
          delivered++;
          this.delivered.set(m.id, now + CAUGHT_UP_MS);
        }
        after = m.id;
      }
      if (messages.length < CATCH_UP_PAGE) {
        complete = true;
        break;
      }
    }
    for (const id of this.delivered.keys()) watermark.see(id);
    this.count += delivered;
    if (delivered > 0 || !opts.quiet) this.deps.log.info({ messages: delivered, from }, 'caught up on messages posted on other replicas');
    return { reads, delivered, complete };
  }
}
