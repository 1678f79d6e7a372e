import { notFound } from '../errors.js';
import type { EventBus } from '../events.js';
import type { ApplicationRecord } from '../model/application.js';
import type { MessageRecord } from '../model/message.js';
import type { ApplicationStore } from '../store/application.js';
import type { MessageStore } from '../store/message.js';

const TOUCH_EVERY_MS = 5 * 60_000;

export interface MessageServiceDeps {
  messages: MessageStore;
  applications: ApplicationStore;
  bus: EventBus;
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
}

/** Messages: creation (shared by POST /message and in-server senders), listing, deletion. */
export class MessageService {
  constructor(private readonly deps: MessageServiceDeps) {}

  /**
   * Stores a message for `application`, then emits `messageCreated` (the stream hub pushes it
   * to the owner's websockets; the plugin host may forward it). Resolves once persisted.
   * 404 "application does not exist" if the application was deleted meanwhile.
   */
  async create(application: ApplicationRecord, input: MessageInput, opts: CreateOptions = {}): Promise<MessageRecord> {
    const defaults = opts.applyDefaults ?? true;
    const now = new Date();
    const title = defaults && (input.title ?? '').trim() === '' ? application.name : (input.title ?? '');
    const priority = input.priority ?? (defaults ? application.defaultPriority : 0);
    const record: Omit<MessageRecord, 'id'> = {
      appId: application.id,
      userId: application.userId,
      message: input.message,
      title,
      priority,
      date: now.toISOString(),
    };
    if (input.extras && Object.keys(input.extras).length > 0) record.extras = input.extras;
    const touch = () => {
      const cur = this.deps.applications.get(application.id);
      if (cur && (cur.lastUsed === null || Date.parse(cur.lastUsed) + TOUCH_EVERY_MS <= now.getTime())) {
        const op = this.deps.applications.touchOp(application.id, now.toISOString());
        return op ? [op] : [];
      }
      return [];
    };
    const message = await this.deps.messages.create(record, touch);
    this.deps.bus.emitSafe('messageCreated', { message, application: this.deps.applications.get(application.id) ?? application });
    return message;
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
    return this.deps.messages.listByApplication(appId, limit, since);
  }

  /** 404 "message does not exist" for a missing message or another user's. */
  async delete(userId: number, id: number): Promise<void> {
    const m = await this.deps.messages.get(id);
    if (!m || m.userId !== userId) throw notFound('message does not exist');
    await this.deps.messages.delete(id);
  }

  deleteAll(userId: number): Promise<number> {
    return this.deps.messages.deleteByUser(userId);
  }

  /** 404 "application does not exists" (sic, Gotify's text) unless owned. */
  deleteByApplication(userId: number, appId: number): Promise<number> {
    const app = this.deps.applications.get(appId);
    if (!app || app.userId !== userId) return Promise.reject(notFound('application does not exists'));
    return this.deps.messages.deleteByApplication(appId, userId);
  }
}
