import type { ClientRecord } from '../model/client.js';

/** Clients (and sessions, which are clients), cached in memory: a token lookup runs on every authenticated request. */
export interface ClientStore {
  get(id: number): ClientRecord | undefined;
  getByToken(token: string): ClientRecord | undefined;
  /** The user's clients ordered by id. */
  listByUser(userId: number): ClientRecord[];
  /** Throws FLOW_ERR_STORE_CONFLICT when the token exists (the caller draws a new one). */
  create(input: Omit<ClientRecord, 'id'>): Promise<ClientRecord>;
  /** Replaces the token (PUT /client/:id/security). FLOW_ERR_STORE_CONFLICT when the new one exists. */
  setToken(id: number, token: string): Promise<ClientRecord>;
  /** Updates mutable fields (name, lastUsed, elevatedUntil); token and owner never change. */
  update(id: number, patch: Partial<Pick<ClientRecord, 'name' | 'lastUsed' | 'elevatedUntil'>>): Promise<ClientRecord>;
  delete(id: number): Promise<ClientRecord>;
}
