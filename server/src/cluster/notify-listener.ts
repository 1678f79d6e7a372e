import pg from 'pg';

/** Reconnects after a lost LISTEN session: 0.1 s, doubling, at most every 5 s. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

export interface NotifyListenerOptions {
  /** How to reach the database (store/pg/pg-db.ts `clientConfig`). */
  config: pg.ClientConfig;
  channel: string;
  /** Each notification's payload, in commit order. */
  onPayload(payload: string): void;
  /**
   * LISTEN took effect: at start (`reconnected` false) and after every reconnect, when the
   * notifications of the time between are lost and must be made up for by reading.
   */
  onListening(reconnected: boolean): void;
  /** The session was lost (it is reconnected with backoff). */
  onLost(err: unknown): void;
}

/**
 * One dedicated PostgreSQL session that LISTENs on a channel (never a pooled one: a pooled
 * session would be handed to other queries and its LISTEN would end with it). A lost session
 * (server restart, network, pg_terminate_backend) is replaced with backoff, and `onListening`
 * tells the owner that notifications may have been missed meanwhile.
 */
export class NotifyListener {
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private listenedOnce = false;

  constructor(private readonly opts: NotifyListenerOptions) {}

  /** True while LISTEN is in effect. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Connects and listens; a failure is reported and retried in the background. */
  async start(): Promise<void> {
    await this.connect(RETRY_FIRST_MS);
  }

  private async connect(nextDelay: number): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ ...this.opts.config, keepAlive: true });
    let lost = false;
    const onLost = (err: unknown) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.opts.onLost(err);
      this.schedule(RETRY_FIRST_MS);
    };
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('the LISTEN session ended')));
    client.on('notification', (n) => {
      if (n.channel === this.opts.channel && n.payload !== undefined) this.opts.onPayload(n.payload);
    });
    try {
      await client.connect();
      // A channel name is an identifier, not a parameter: it comes from code, never from input.
      await client.query(`LISTEN ${this.opts.channel}`);
    } catch (err) {
      lost = true;
      client.removeAllListeners();
      client.on('error', () => undefined);
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.opts.onLost(err);
      this.schedule(Math.min(nextDelay * 2, RETRY_MAX_MS), nextDelay);
      return;
    }
    if (lost || this.closed) {
      void client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    const reconnected = this.listenedOnce;
    this.listenedOnce = true;
    this.opts.onListening(reconnected);
  }

  private schedule(nextDelay: number, delay = RETRY_FIRST_MS): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect(nextDelay);
    }, delay);
    this.retry.unref();
  }

  /** Ends the session; safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
