import { FlowError } from '../../errors.js';
import type { ApplicationRecord } from '../../model/application.js';
import type { MessageRecord } from '../../model/message.js';
import type { ApplicationPatch, ApplicationStore } from '../application.js';
import { OwnedCache } from '../owned-cache.js';
import { keyAfter } from '../sort-key.js';
import type { PgMessageStore } from './message.js';
import type { PgDb } from './pg-db.js';
import { APPLICATION_COLUMNS, applicationOf, applicationValues, placeholders, type ApplicationRow } from './rows.js';

/**
 * Applications in PostgreSQL (`applications`), served from memory (write-through after commit).
 * Messages are inserted through here (`addMessage`), and deleting an application writes its
 * purge mark in the same transaction, as the LevelDB store does in one batch.
 */
export class PgApplicationStore implements ApplicationStore {
  private records = new OwnedCache<ApplicationRecord>();
  /** Apps being deleted: message inserts for them are refused while the delete runs. */
  private closing = new Set<number>();

  constructor(
    private readonly db: PgDb,
    readonly messages: PgMessageStore,
  ) {}

  async load(): Promise<void> {
    const { rows } = await this.db.query<ApplicationRow>(`SELECT ${APPLICATION_COLUMNS} FROM applications`);
    for (const r of rows) this.records.add(applicationOf(r));
  }

  get(id: number): ApplicationRecord | undefined {
    return this.records.get(id);
  }

  getByToken(token: string): ApplicationRecord | undefined {
    return this.records.getByToken(token);
  }

  all(): ApplicationRecord[] {
    return [...this.records.values()];
  }

  acceptsMessages(id: number): boolean {
    return this.records.get(id) !== undefined && !this.closing.has(id);
  }

  listByUser(userId: number): ApplicationRecord[] {
    return this.records.listByUser(userId).sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : a.id - b.id));
  }

  private sortKeyTaken(userId: number, key: string, exceptId = 0): boolean {
    return this.listByUser(userId).some((a) => a.sortKey === key && a.id !== exceptId);
  }

  create(input: Omit<ApplicationRecord, 'id'>): Promise<ApplicationRecord> {
    return this.db.exclusive(async () => {
      if (this.records.getByToken(input.token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      let sortKey = input.sortKey;
      if (sortKey === '') {
        sortKey = keyAfter(this.listByUser(input.userId).reduce((max, a) => (a.sortKey > max ? a.sortKey : max), ''));
      } else if (this.sortKeyTaken(input.userId, sortKey)) {
        throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'sort key is not unique');
      }
      const values = applicationValues({ ...input, id: 0, sortKey }).slice(1);
      const { rows } = await this.db.query<{ id: number }>(
        `INSERT INTO applications (${APPLICATION_COLUMNS}) VALUES (nextval('application_id_seq'), ${placeholders(values.length)}) RETURNING id`,
        values,
      );
      const rec: ApplicationRecord = { ...input, id: rows[0]!.id, sortKey };
      this.records.add(rec);
      return rec;
    });
  }

  setToken(id: number, token: string): Promise<ApplicationRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      if (this.records.getByToken(token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      await this.db.query('UPDATE applications SET token = $2 WHERE id = $1', [id, token]);
      const next = { ...this.current(id), token };
      this.records.retoken(cur, next);
      return next;
    });
  }

  /**
   * The hot path: skips the store lock; the check is synchronous and the insert is tracked, so
   * a concurrent delete either refuses it or waits for it and purges it too.
   */
  addMessage(input: Omit<MessageRecord, 'id'>, lastUsed?: string): Promise<MessageRecord> {
    if (!this.acceptsMessages(input.appId)) {
      return Promise.reject(new FlowError('FLOW_ERR_NOT_FOUND', 'application does not exist'));
    }
    if (lastUsed !== undefined) {
      // Applied to memory at once: a lost lastUsed update is harmless.
      this.records.set({ ...this.records.get(input.appId)!, lastUsed });
    }
    return this.db.track(this.messages.insert(input, lastUsed));
  }

  update(id: number, patch: ApplicationPatch): Promise<ApplicationRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      if (patch.sortKey !== undefined && patch.sortKey !== cur.sortKey && this.sortKeyTaken(cur.userId, patch.sortKey, id)) {
        throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'sort key is not unique');
      }
      const next = { ...cur, ...patch };
      const v = applicationValues(next);
      // lastUsed only when the patch sets it: message inserts write it without this lock.
      await this.db.query(
        `UPDATE applications SET name = $2, description = $3, internal = $4, image = $5, default_priority = $6, sort_key = $7, retention = $8${
          patch.lastUsed !== undefined ? ', last_used = $9' : ''
        } WHERE id = $1`,
        [id, next.name, next.description, next.internal, next.image, next.defaultPriority, next.sortKey, v[10], ...(patch.lastUsed !== undefined ? [next.lastUsed] : [])],
      );
      // A message may have touched lastUsed meanwhile.
      const fresh = { ...next, lastUsed: patch.lastUsed !== undefined ? next.lastUsed : (this.records.get(id)?.lastUsed ?? next.lastUsed) };
      this.records.set(fresh);
      return fresh;
    });
  }

  delete(id: number, check?: (cur: ApplicationRecord) => void): Promise<ApplicationRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      check?.(cur);
      // From here no insert for it starts; the mark covers the ones in flight.
      this.closing.add(id);
      try {
        const mark = await this.messages.purgeApplicationMark(id, cur.userId);
        await this.db.tx(async (q) => {
          await mark?.write(q);
          await q.query('DELETE FROM applications WHERE id = $1', [id]);
        });
        this.records.remove(cur);
        mark?.commit();
        return cur;
      } finally {
        this.closing.delete(id);
      }
    });
  }

  private current(id: number): ApplicationRecord {
    const cur = this.records.get(id);
    if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', `app with id ${id} doesn't exists`);
    return cur;
  }

  /** For the user delete (inside the lock): refuses message inserts for the user's apps until `reopen`. */
  closeAllOfUser(userId: number): { reopen(): void } {
    const apps = this.records.listByUser(userId);
    for (const a of apps) this.closing.add(a.id);
    return {
      reopen: () => {
        for (const a of apps) this.closing.delete(a.id);
      },
    };
  }

  /** After the user's row (and by its foreign key, its applications) was deleted. */
  forgetUser(userId: number): void {
    this.records.removeUser(userId);
  }
}
