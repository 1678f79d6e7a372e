/** A stored client (a device or UI session holding a `C…` token). */
export interface ClientRecord {
  id: number;
  userId: number;
  token: string;
  name: string;
  /** ISO time of the last authenticated use, refreshed at most every 5 minutes. */
  lastUsed: string | null;
  /** ISO creation time (Gotify 3; absent for clients created before it was kept). */
  createdAt?: string;
  /**
   * A session (web UI login, OIDC): the client expires after this many seconds without use
   * (Gotify 3's expiresAfterInactivitySeconds); absent or 0: never.
   */
  expiresAfterInactivitySeconds?: number;
  /** Gotify 3 client elevation: elevated operations are allowed until this ISO time. */
  elevatedUntil?: string | null;
}

/** Wire shape (Gotify `Client`); key order follows Gotify's JSON. */
export interface ClientExternal {
  id: number;
  token: string;
  name: string;
  lastUsed: string | null;
}

export const toExternalClient = (c: ClientRecord): ClientExternal => ({
  id: c.id,
  token: c.token,
  name: c.name,
  lastUsed: c.lastUsed,
});
