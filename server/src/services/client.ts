import { notFound } from '../errors.js';
import type { EventBus } from '../events.js';
import type { ClientRecord } from '../model/client.js';
import type { ClientStore } from '../store/client.js';
import { newClientToken } from './token.js';
import { withFreshToken } from './retry.js';

/** lastUsed is refreshed at most this often (Gotify: 5 minutes), so auth rarely writes. */
const TOUCH_EVERY_MS = 5 * 60_000;

export interface ClientServiceDeps {
  clients: ClientStore;
  bus: EventBus;
}

/** Clients (C… tokens). Another user's client is reported as missing (404), never 403. */
export class ClientService {
  constructor(private readonly deps: ClientServiceDeps) {}

  list(userId: number): ClientRecord[] {
    return this.deps.clients.listByUser(userId);
  }

  getByToken(token: string): ClientRecord | undefined {
    return this.deps.clients.getByToken(token);
  }

  /** The user's client or 404 "client with id N doesn't exists". */
  requireOwned(userId: number, id: number): ClientRecord {
    const c = this.deps.clients.get(id);
    if (!c || c.userId !== userId) throw notFound(`client with id ${id} doesn't exists`);
    return c;
  }

  create(userId: number, name: string): Promise<ClientRecord> {
    return withFreshToken(newClientToken, (token) =>
      this.deps.clients.create({ userId, token, name, lastUsed: null }),
    );
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
