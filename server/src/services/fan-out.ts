import type { ApplicationRecord } from '../model/application.js';
import type { MessageRecord } from '../model/message.js';

interface Slot {
  message?: MessageRecord;
  application?: ApplicationRecord;
  /** Set when the insert failed: the slot is skipped. */
  cancelled: boolean;
}

/**
 * Hands each new message to its subscribers (streams, plugins, retention) after POST /message
 * has answered, in id order per user. A slot is reserved in the user's queue in the same
 * synchronous step that allocates the message id, so the queue order is the id order even when
 * two inserts of one user commit out of order; a queue is drained from its head, in a
 * `setImmediate` after the request that filled a slot has written its response, up to the first
 * slot whose insert is still in flight. Nothing is dropped: a failed insert cancels its slot.
 */
export class FanOut {
  private readonly queues = new Map<number, Slot[]>();
  private scheduled = false;

  constructor(private readonly deliver: (message: MessageRecord, application: ApplicationRecord) => void) {}

  /** Reserves the next place in the user's order; call right before allocating the message id. */
  reserve(userId: number): { ready(message: MessageRecord, application: ApplicationRecord): void; cancel(): void } {
    const slot: Slot = { cancelled: false };
    let q = this.queues.get(userId);
    if (!q) this.queues.set(userId, (q = []));
    q.push(slot);
    return {
      ready: (message, application) => {
        slot.message = message;
        slot.application = application;
        this.schedule();
      },
      cancel: () => {
        slot.cancelled = true;
        this.schedule();
      },
    };
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  /** Delivers every slot that is ready and has no pending slot before it (also at shutdown). */
  drain(): void {
    for (const [userId, q] of this.queues) {
      let i = 0;
      for (; i < q.length; i++) {
        const s = q[i]!;
        if (s.cancelled) continue;
        if (!s.message) break;
        this.deliver(s.message, s.application!);
      }
      if (i === q.length) this.queues.delete(userId);
      else if (i > 0) q.splice(0, i);
    }
  }

  /** Messages reserved but not yet delivered (diagnostics, tests). */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }
}
