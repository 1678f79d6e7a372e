/** A stored client (a device or UI session holding a `C…` token). */
export interface ClientRecord {
  id: number;
  userId: number;
  token: string;
  name: string;
  /** ISO time of the last authenticated use, refreshed at most every 5 minutes. */
  lastUsed: string | null;
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
