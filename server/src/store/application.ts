import type { ApplicationRecord } from '../model/application.js';
import type { MessageRecord } from '../model/message.js';
import type { WriteFence } from './message.js';

/** The fields of an application that `update` may change; id, token and owner never change. */
export type ApplicationPatch = Partial<
  Pick<ApplicationRecord, 'name' | 'description' | 'defaultPriority' | 'sortKey' | 'image' | 'internal' | 'lastUsed' | 'retention'>
>;

/**
 * Applications, cached in memory (POST /message resolves its token on every call). Messages
 * belong to an application, so adding one goes through here (`addMessage`), and deleting an
 * application marks its messages deleted atomically with it (they are removed in the background).
 */
export interface ApplicationStore {
  get(id: number): ApplicationRecord | undefined;
  getByToken(token: string): ApplicationRecord | undefined;
  /** Every application, in no particular order (retention checks). */
  all(): ApplicationRecord[];
  /** True while messages may be added to the application (it exists and is not being deleted). */
  acceptsMessages(id: number): boolean;
  /** The user's applications ordered by (sortKey, id), as Gotify lists them. */
  listByUser(userId: number): ApplicationRecord[];
  /** An empty sortKey is placed after the user's last one. FLOW_ERR_STORE_CONFLICT for a duplicate token or sort key. */
  create(input: Omit<ApplicationRecord, 'id'>, fence?: WriteFence): Promise<ApplicationRecord>;
  /** Replaces the token (PUT /application/:id/security). FLOW_ERR_STORE_CONFLICT when the new one exists. */
  setToken(id: number, token: string): Promise<ApplicationRecord>;
  /**
   * Inserts a message (the hot path); ids follow call order within this process. `lastUsed`,
   * when given, is written with it. FLOW_ERR_NOT_FOUND when the application is missing or being deleted.
   * With `fence` (PostgreSQL: a plugin instance's message) it commits only while the fence holds.
   */
  addMessage(input: Omit<MessageRecord, 'id'>, lastUsed?: string, fence?: WriteFence): Promise<MessageRecord>;
  update(id: number, patch: ApplicationPatch): Promise<ApplicationRecord>;
  /** Deletes the application and marks its messages deleted atomically; `check` may veto first. */
  delete(id: number, check?: (cur: ApplicationRecord) => void): Promise<ApplicationRecord>;
}
