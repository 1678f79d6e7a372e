import { notFound } from '../errors.js';
import type { OwnedRecord } from '../store/owned-cache.js';

/** The reads of an entity store whose records a user owns by token (`ClientStore`, `ApplicationStore`). */
interface OwnedReads<T> {
  get(id: number): T | undefined;
  getByToken(token: string): T | undefined;
  listByUser(userId: number): T[];
}

/**
 * The reads both services of a user's token-holding records share (clients, applications).
 * Another user's record is reported as missing (404), never 403, with the entity's own text.
 */
export abstract class OwnedRecordService<T extends OwnedRecord> {
  constructor(
    private readonly owned: OwnedReads<T>,
    private readonly missing: (id: number) => string,
  ) {}

  list(userId: number): T[] {
    return this.owned.listByUser(userId);
  }

  get(id: number): T | undefined {
    return this.owned.get(id);
  }

  getByToken(token: string): T | undefined {
    return this.owned.getByToken(token);
  }

  /** The user's record, or 404 with the entity's text (Gotify's "… with id N doesn't exists"). */
  requireOwned(userId: number, id: number): T {
    const r = this.owned.get(id);
    if (!r || r.userId !== userId) throw notFound(this.missing(id));
    return r;
  }
}
