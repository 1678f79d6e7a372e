import { FlowError } from '../../errors.js';
import type { ApplicationRecord } from '../../model/application.js';
import type { MessageRecord } from '../../model/message.js';
import type { ApplicationPatch, ApplicationStore } from '../application.js';
import type { WriteFence } from '../message.js';
import { keyAfter } from '../sort-key.js';
import { CachedOwnedStore, type TokenRecordWrites } from './owned-store.js';

/**
 * Applications served from memory (POST /message resolves its token on every call), the same
 * for both backends: reads, the token and sort-key rules checked under the store's lock, the
 * "being deleted" guard of message inserts and the write-through after commit. A backend
 * supplies the writes; `deleteRecord` marks the application's messages deleted atomically with it.
 */
export abstract class CachedApplicationStore extends CachedOwnedStore<ApplicationRecord> implements ApplicationStore {
  /** Apps being deleted: message inserts for them are refused while the delete runs. */
  private closing = new Set<number>();

  protected abstract readonly writes: TokenRecordWrites<ApplicationRecord>;
  /** Writes the patched record; `lastUsed` only when the patch sets it (message inserts write it without the lock). */
  protected abstract writeRecord(next: ApplicationRecord, patch: ApplicationPatch): Promise<void>;
  /** Deletes the application and writes its messages' purge mark in the same commit. */
  protected abstract override deleteRecord(cur: ApplicationRecord): Promise<void>;
  /** Inserts the message (and the application's lastUsed when given) in one commit, checking `fence` in it (PostgreSQL only). */
  protected abstract insertMessage(input: Omit<MessageRecord, 'id'>, lastUsed?: string, fence?: WriteFence): Promise<MessageRecord>;

  protected missing(id: number): string {
    return `app with id ${id} doesn't exists`;
  }

  all(): ApplicationRecord[] {
    return [...this.records.values()];
  }

  acceptsMessages(id: number): boolean {
    return this.records.get(id) !== undefined && !this.closing.has(id);
  }

  /** The user's applications in their order (sort key, then id). */
  override listByUser(userId: number): ApplicationRecord[] {
    return super.listByUser(userId).sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : a.id - b.id));
  }

  private sortKeyTaken(userId: number, key: string, exceptId = 0): boolean {
    return this.listByUser(userId).some((a) => a.sortKey === key && a.id !== exceptId);
  }

  create(input: Omit<ApplicationRecord, 'id'>, fence?: WriteFence): Promise<ApplicationRecord> {
    let sortKey = input.sortKey;
    return this.createChecked(
      () => {
        this.refuseTakenToken(input.token);
        if (sortKey === '') {
          sortKey = keyAfter(this.listByUser(input.userId).reduce((max, a) => (a.sortKey > max ? a.sortKey : max), ''));
        } else if (this.sortKeyTaken(input.userId, sortKey)) {
          throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'sort key is not unique');
        }
      },
      () => this.writes.insert({ ...input, sortKey }, fence),
    );
  }

  setToken(id: number, token: string): Promise<ApplicationRecord> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      this.refuseTakenToken(token);
      await this.writes.writeToken(cur, { ...cur, token });
      // A message may have touched lastUsed while the write ran.
      const next = { ...this.current(id), token };
      this.records.retoken(cur, next);
      return next;
    });
  }

  /**
   * The hot path: skips the store lock; the check is synchronous and the insert is tracked, so
   * a concurrent delete either refuses it or waits for it and purges it too.
   * FLOW_ERR_NOT_FOUND when the application is missing or being deleted.
   */
  addMessage(input: Omit<MessageRecord, 'id'>, lastUsed?: string, fence?: WriteFence): Promise<MessageRecord> {
    if (!this.acceptsMessages(input.appId)) {
      return Promise.reject(new FlowError('FLOW_ERR_NOT_FOUND', 'application does not exist'));
    }
    const insert = this.insertMessage(input, lastUsed, fence);
    // Applied to memory at once: a lost lastUsed update is harmless.
    if (lastUsed !== undefined) this.records.set({ ...this.records.get(input.appId)!, lastUsed });
    return this.gate.track(insert);
  }

  update(id: number, patch: ApplicationPatch): Promise<ApplicationRecord> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      if (patch.sortKey !== undefined && patch.sortKey !== cur.sortKey && this.sortKeyTaken(cur.userId, patch.sortKey, id)) {
        throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'sort key is not unique');
      }
      const next = { ...cur, ...patch };
      await this.writeRecord(next, patch);
      // A message may have touched lastUsed meanwhile.
      const fresh = { ...next, lastUsed: patch.lastUsed !== undefined ? next.lastUsed : (this.records.get(id)?.lastUsed ?? next.lastUsed) };
      this.records.set(fresh);
      return fresh;
    });
  }

  /** Deleting an application (`delete`) marks its messages deleted atomically with it. */
  protected override async removeRecord(cur: ApplicationRecord): Promise<void> {
    // From here no insert for it starts; the purge mark covers the ones in flight.
    this.closing.add(cur.id);
    try {
      await super.removeRecord(cur);
    } finally {
      this.closing.delete(cur.id);
    }
  }

  /** For the user delete (inside the lock): refuses message inserts for the user's apps until `reopen`. */
  closeAllOfUser(userId: number): { apps: ApplicationRecord[]; reopen(): void } {
    const apps = this.listByUser(userId);
    for (const a of apps) this.closing.add(a.id);
    return {
      apps,
      reopen: () => {
        for (const a of apps) this.closing.delete(a.id);
      },
    };
  }
}
