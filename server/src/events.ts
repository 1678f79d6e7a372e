import type { UserRecord } from './model/user.js';
import type { MessageRecord } from './model/message.js';
import type { ApplicationRecord } from './model/application.js';
import type { ClientRecord } from './model/client.js';

/**
 * In-process events. Producers (services) emit after the change is committed, except
 * `userDeleting`, which runs before the delete and may veto it by throwing (Gotify runs the
 * plugin manager's RemoveUser there; its error turns DELETE /user/:id into a 500 and keeps the user).
 */
export interface FlowEvents {
  /** A user was created (POST /user or the default admin). Awaited by POST /user: a failure → 500. */
  userAdded: { user: UserRecord };
  /** A user is about to be deleted; throw to abort (the user is kept, DELETE answers 500). */
  userDeleting: { user: UserRecord };
  /** A user and everything it owned are gone. */
  userDeleted: { user: UserRecord };
  /** A message was persisted (from POST /message or from inside the server). */
  messageCreated: { message: MessageRecord; application: ApplicationRecord };
  /**
   * A message posted on another replica (PostgreSQL with several servers; `cluster/notify-feed.ts`),
   * emitted only when a local subscriber wants the user's messages, in id order per burst. The
   * stream hub delivers it as `messageCreated`; plugin instances take it only on the replica that
   * owns them.
   */
  messageFromReplica: { message: MessageRecord; application: ApplicationRecord };
  /** A client was deleted; its token no longer authenticates. */
  clientDeleted: { client: ClientRecord };
  /** A user created on another replica (PostgreSQL; `cluster/notify-feed.ts`): the plugins here give it their instances. */
  userFromReplica: { user: UserRecord };
  /** The plugin permission rules were changed on another replica (and read again here). */
  pluginPermissionsChanged: Record<string, never>;
}

export type FlowEventName = keyof FlowEvents;
export type Handler<K extends FlowEventName> = (payload: FlowEvents[K]) => void | Promise<void>;

/**
 * A typed event bus. `emit` calls handlers in subscription order, synchronously up to their
 * first await, and resolves when all have finished; it rejects with the first failure after
 * every handler ran (one failing subscriber does not starve the others). Fire-and-forget
 * producers use `emitSafe`, which reports failures to `onError` instead.
 */
export class EventBus {
  private handlers = new Map<FlowEventName, Set<Handler<never>>>();

  constructor(private readonly onError: (event: FlowEventName, err: unknown) => void = () => undefined) {}

  /** Subscribes; returns the unsubscribe function (safe to call twice). */
  on<K extends FlowEventName>(event: K, handler: Handler<K>): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as Handler<never>);
    return () => void set.delete(handler as Handler<never>);
  }

  async emit<K extends FlowEventName>(event: K, payload: FlowEvents[K]): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const h of this.handlers.get(event) ?? []) {
      try {
        const r = (h as Handler<K>)(payload);
        if (r) pending.push(r);
      } catch (err) {
        pending.push(Promise.reject(err));
      }
    }
    if (pending.length === 0) return;
    const results = await Promise.allSettled(pending);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Emits without waiting; failures go to the bus's onError (logged by app.ts). */
  emitSafe<K extends FlowEventName>(event: K, payload: FlowEvents[K]): void {
    const handlers = this.handlers.get(event);
    if (!handlers || handlers.size === 0) return;
    this.emit(event, payload).catch((err) => this.onError(event, err));
  }
}
