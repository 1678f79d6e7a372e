import type { EventBus } from '../events.js';
import type { ClientRecord } from '../model/client.js';
import type { ClientStore } from '../store/client.js';
import type { Issued, TokenFormat } from './token.js';
import { OwnedRecordService } from './owned.js';
import { withFreshToken } from './retry.js';

/** lastUsed is refreshed at most this often (Gotify: 5 minutes), so auth rarely writes. */
const TOUCH_EVERY_MS = 5 * 60_000;

export interface ClientServiceDeps {
  clients: ClientStore;
  bus: EventBus;
  /** Form of new tokens (config `tokenformat`); default classic. */
  tokenFormat?: TokenFormat;
}

/** Clients (C… tokens). Another user's client is reported as missing (404), never 403. */
export class ClientService extends OwnedRecordService<ClientRecord> {
  constructor(private readonly deps: ClientServiceDeps) {
    super(deps.clients, (id) => `client with id ${id} doesn't exists`);
  }

  /**
   * A new client. `session` makes it a login session (Gotify 3: it expires after that many seconds
   * without use and starts elevated until `elevatedUntil`).
   */
  async create(
    userId: number,
    name: string,
    session?: { expiresAfterInactivitySeconds: number; elevatedUntil: string },
  ): Promise<Issued<ClientRecord>> {
    const createdAt = new Date().toISOString();
    return withFreshToken('client', this.deps.tokenFormat ?? 'classic', (token) =>
      this.deps.clients.create({ userId, token, name, lastUsed: null, createdAt, ...(session ?? {}) }),
    );
  }

  /** Token rotation (PUT /client/:id/security): streams opened with the old token are closed. */
  async regenerateToken(userId: number, id: number): Promise<Issued<ClientRecord>> {
    const old = this.requireOwned(userId, id);
    const issued = await withFreshToken('client', this.deps.tokenFormat ?? 'classic', (token) => this.deps.clients.setToken(id, token));
    // The hub closes the websockets of a removed client token; the old token is exactly that.
    this.deps.bus.emitSafe('clientDeleted', { client: old });
    return issued;
  }

  /** POST /client/:id/elevate: elevated operations are allowed for `seconds` from now. */
  async elevate(userId: number, id: number, seconds: number): Promise<ClientRecord> {
    this.requireOwned(userId, id);
    const elevatedUntil = new Date(Date.now() + seconds * 1000).toISOString();
    return this.deps.clients.update(id, { elevatedUntil });
  }

  /**
   * Whether the client is usable now: a session (expiresAfterInactivitySeconds > 0) expires after
   * that long without use, counted from its last use or creation (Gotify 3's expiresAt).
   */
  isLive(client: ClientRecord, now = Date.now()): boolean {
    const secs = client.expiresAfterInactivitySeconds ?? 0;
    if (secs <= 0) return true;
    const ref = client.lastUsed ?? client.createdAt;
    return ref === undefined || Date.parse(ref) + secs * 1000 > now;
  }

  /** Client elevation (Gotify 3): true while elevatedUntil is in the future. */
  isElevated(client: ClientRecord, now = Date.now()): boolean {
    return client.elevatedUntil !== undefined && client.elevatedUntil !== null && Date.parse(client.elevatedUntil) > now;
  }

  async rename(userId: number, id: number, name: string): Promise<ClientRecord> {
    this.requireOwned(userId, id);
    return this.deps.clients.update(id, { name });
  }

  /** Deletes the client; `clientDeleted` lets the stream hub close the websockets opened with its token. */
  async delete(userId: number, id: number): Promise<ClientRecord> {
    this.requireOwned(userId, id);
    const removed = await this.deps.clients.delete(id);
    // Synchronous subscribers (the stream hub) run before this returns; failures are logged.
    this.deps.bus.emitSafe('clientDeleted', { client: removed });
    return removed;
  }

  /**
   * Sets lastUsed = now for each of these tokens, unthrottled (Gotify's UpdateClientTokensLastUsed,
   * run for the tokens of open streams every 5 minutes). Unknown tokens are skipped; never rejects.
   */
  async markUsed(tokens: readonly string[]): Promise<void> {
    const lastUsed = new Date().toISOString();
    for (const token of tokens) {
      const client = this.deps.clients.getByToken(token);
      if (client) await this.deps.clients.update(client.id, { lastUsed }).catch(() => undefined);
    }
  }

  /**
   * Records a use of the token, as Gotify does before serving the request (so the next
   * GET /client shows it). Writes at most every 5 minutes per client; never rejects.
   */
  async touch(client: ClientRecord): Promise<void> {
    const now = Date.now();
    if (client.lastUsed !== null && Date.parse(client.lastUsed) + TOUCH_EVERY_MS > now) return;
    await this.deps.clients.update(client.id, { lastUsed: new Date(now).toISOString() }).catch(() => undefined);
  }
}
