import { notFound } from '../errors.js';
import type { EventBus } from '../events.js';
import type { ApplicationRecord } from '../model/application.js';
import type { MessageRecord } from '../model/message.js';
import type { ApplicationStore } from '../store/application.js';
import type { MessageStore, WriteFence } from '../store/message.js';
import { FanOut } from './fan-out.js';

const TOUCH_EVERY_MS = 5 * 60_000;

export interface MessageServiceDeps {
  messages: MessageStore;
  applications: ApplicationStore;
  bus: EventBus;
  /** Milliseconds since the epoch; message dates come from here (tests inject a clock). */
  clock?: () => number;
}

export interface MessageInput {
  message: string;
  title?: string;
  priority?: number;
  extras?: Record<string, unknown>;
}

export interface CreateOptions {
  /**
   * Apply Gotify's POST /message defaults: a blank title becomes the application's name, a
   * missing priority its defaultPriority. Default true. (Gotify's own plugin path skips them;
   * pass false to reproduce that.)
   */
  applyDefaults?: boolean;
  /** A plugin instance's message with replicas: stored only while its lease holds (FLOW_ERR_LEASE_LOST otherwise). */
  fence?: WriteFence;
}

/** Messages: creation (shared by POST /message and in-server senders), listing, deletion. */
export class MessageService {
  private readonly clock: () => number;
  private lastDate = { ms: NaN, iso: '' };
  private lastParsed = { text: '', ms: NaN };
  /** Delivers `messageCreated` after the creating request answered, in id order per user. */
  readonly fanOut: FanOut;

  constructor(private readonly deps: MessageServiceDeps) {
    this.clock = deps.clock ?? Date.now;
    this.fanOut = new FanOut((message, application) => deps.bus.emitSafe('messageCreated', { message, application }));
  }

  /**
   * Stores a message for `application`; resolves once persisted. `messageCreated` (the stream
   * hub pushes it to the owner's websockets, the plugin host may forward it) follows shortly
   * after, in a later turn of the event loop, so the caller answers first.
   * 404 "application does not exist" if the application was deleted meanwhile.
   */
  async create(application: ApplicationRecord, input: MessageInput, opts: CreateOptions = {}): Promise<MessageRecord> {
    const defaults = opts.applyDefaults ?? true;
    const now = this.clock();
    const date = this.isoDate(now);
    const title = defaults && (input.title ?? '').trim() === '' ? application.name : (input.title ?? '');
    const priority = input.priority ?? (defaults ? application.defaultPriority : 0);
    const record: Omit<MessageRecord, 'id'> = {
      appId: application.id,
      userId: application.userId,
      message: input.message,
      title,
      priority,
      date,
    };
    if (input.extras && Object.keys(input.extras).length > 0) record.extras = input.extras;
    // `application` is the record the caller resolved (once, from the in-memory cache); a delete
    // since then is caught by the store, which refuses messages for an application being deleted.
    const touch = application.lastUsed === null || this.lastUsedMs(application.lastUsed) + TOUCH_EVERY_MS <= now ? date : undefined;
    const slot = this.fanOut.reserve(application.userId);
    let message: MessageRecord;
    try {
      message = await this.deps.applications.addMessage(record, touch, opts.fence);
    } catch (err) {
      slot.cancel();
      throw err; // a FlowError keeps its kind: the HTTP edge maps it
    }
    slot.ready(message, application);
    return message;
  }

  /** `new Date(ms).toISOString()`, remembered for the last millisecond: busy senders post several per ms. */
  private isoDate(ms: number): string {
    if (ms !== this.lastDate.ms) this.lastDate = { ms, iso: new Date(ms).toISOString() };
    return this.lastDate.iso;
  }

  /** `Date.parse(lastUsed)`, remembered for the last text: an application's lastUsed changes every 5 minutes at most. */
  private lastUsedMs(lastUsed: string): number {
    if (lastUsed !== this.lastParsed.text) this.lastParsed = { text: lastUsed, ms: Date.parse(lastUsed) };
    return this.lastParsed.ms;
  }

  /**
   * For senders inside the server (plugins): the same path as POST /message, by application id.
   * 404 "application does not exist" when it is missing.
   */
  async createForApplication(applicationId: number, input: MessageInput, opts?: CreateOptions): Promise<MessageRecord> {
    const app = this.deps.applications.get(applicationId);
    if (!app) throw notFound('application does not exist');
    return this.create(app, input, opts);
  }

  /** Newest first; `since` > 0 returns only ids below it. */
  listByUser(userId: number, limit: number, since = 0): Promise<MessageRecord[]> {
    return this.deps.messages.listByUser(userId, limit, since);
  }

  /** 404 "application does not exist" unless the user owns the application. */
  listByApplication(userId: number, appId: number, limit: number, since = 0): Promise<MessageRecord[]> {
    const app = this.deps.applications.get(appId);
    if (!app || app.userId !== userId) throw notFound('application does not exist');
    return this.deps.messages.listByApplication(appId, userId, limit, since);
  }

  /** 404 "message does not exist" for a missing message or another user's. */
  async delete(userId: number, id: number): Promise<void> {
    const m = await this.deps.messages.get(id);
    if (!m || m.userId !== userId) throw notFound('message does not exist');
    await this.deps.messages.delete(id);
  }

  /**
   * DELETE /message: every message of the user that exists now disappears at once; the keys are
   * removed in the background. A repeat while that runs is a 200 that does no new work (Gotify
   * answers 200 to every DELETE /message).
   */
  async deleteAll(userId: number): Promise<void> {
    await this.deps.messages.deleteByUser(userId);
  }

  /** 404 "application does not exists" (sic, Gotify's text) unless owned. */
  async deleteByApplication(userId: number, appId: number): Promise<void> {
    const app = this.deps.applications.get(appId);
    if (!app || app.userId !== userId) throw notFound('application does not exists');
    await this.deps.messages.deleteByApplication(appId, userId);
  }
}
