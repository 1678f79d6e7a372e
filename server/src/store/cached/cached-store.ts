import { FlowError } from '../../errors.js';
import type { RecordCache } from '../record-cache.js';
import type { WriteGate } from '../write-gate.js';

/**
 * What every entity served from memory shares, for both backends (users, clients, applications,
 * plugin confs): reads by id, and the writes that check their rules under the store's lock and
 * apply to memory only after the backend committed (write-through). The entity's base
 * (`cached/user.ts`, …) adds its own rules; a backend supplies the record writes.
 */
export abstract class CachedStore<T extends { id: number }, C extends RecordCache<T> = RecordCache<T>> {
  constructor(
    protected readonly gate: WriteGate,
    protected readonly records: C,
  ) {}

  /** Deletes the record in the backend (the user: with everything it owns). */
  protected abstract deleteRecord(cur: T): Promise<void>;
  /** The message of FLOW_ERR_NOT_FOUND for a missing `id` (each entity keeps the text Gotify answers). */
  protected abstract missing(id: number): string;

  get(id: number): T | undefined {
    return this.records.get(id);
  }

  /** Under the lock: `check` may refuse (a taken token or name), then `write` commits the new record, which memory then holds. */
  protected createChecked(check: () => void, write: () => Promise<T>): Promise<T> {
    return this.gate.exclusive(async () => {
      check();
      const rec = await write();
      this.records.add(rec);
      return rec;
    });
  }

  /** Deletes the record; `check` runs inside the lock first and may throw (e.g. the last admin). */
  delete(id: number, check?: (cur: T) => void): Promise<T> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      check?.(cur);
      await this.removeRecord(cur);
      return cur;
    });
  }

  /** Inside the lock: the backend's delete, then memory. */
  protected async removeRecord(cur: T): Promise<void> {
    await this.deleteRecord(cur);
    this.records.remove(cur);
  }

  /** The record, or FLOW_ERR_NOT_FOUND. */
  protected current(id: number): T {
    const cur = this.records.get(id);
    if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', this.missing(id));
    return cur;
  }
}
