import { createHash } from 'node:crypto';
import pLimit, { type LimitFunction } from 'p-limit';
import type { FeedConfig, RssConfig } from './config.js';
import { FeedFetchError, FetchAborted, fetchFeed } from './fetch-feed.js';
import { itemMessage, type OutgoingMessage } from './format.js';
import { FeedParseError, newEntriesOldestFirst, parseFeedText, type FeedEntry } from './parse.js';
import { FeedRecord } from './feed-record.js';
import { SeenSet } from './seen-set.js';

/** The slice of the kit's InstanceContext the poller uses, so it can be tested on its own. */
export interface PollerHost {
  kv: {
    get(key: string): Promise<string | null>;
    set(key: string, value: string): Promise<void>;
    delete(key: string): Promise<boolean>;
    list(prefix?: string): Promise<string[]>;
  };
  send(message: OutgoingMessage): Promise<unknown>;
  log: {
    info(message: string, fields?: Record<string, unknown>): void;
    warn(message: string, fields?: Record<string, unknown>): void;
    error(message: string, fields?: Record<string, unknown>): void;
  };
}

/** One row of the display. Times are epoch milliseconds. */
export interface FeedStatus {
  url: string;
  name: string;
  state: 'pending' | 'ok' | 'error';
  /** Set when state is 'error': why the last poll failed. */
  error?: string;
  /** Consecutive failed polls. */
  failures: number;
  lastPollAt?: number;
  nextPollAt?: number;
  /** Items in the feed at the last successful fetch. */
  itemCount?: number;
  /** Messages sent for this feed since the instance was enabled. */
  sentCount: number;
}

/** A message could not be handed to the host; the item stays unseen and is retried. */
class SendFailed extends Error {
  override name = 'SendFailed';
}

/** Storage failed; what was sent is remembered in memory and written again next poll. */
class StorageFailed extends Error {
  override name = 'StorageFailed';
}

interface FeedState {
  config: FeedConfig;
  storageKey: string;
  /** Undefined until the stored record was read (once per process). */
  record?: FeedRecord | 'new';
  /** The in-memory record differs from storage (a write failed). */
  dirty: boolean;
  feedTitle?: string;
  status: FeedStatus;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  /** The server's Retry-After from the last failed poll, a floor for the backoff. */
  retryAfterMs?: number;
  /** Aborted when the feed is removed from the configuration: its poll in flight sends nothing more. */
  removed: AbortController;
}

const STORAGE_PREFIX = 'feed:';
const MAX_BACKOFF_MS = 6 * 3600_000;
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/** The kv key of a feed: hashed, since URLs can exceed the protocol's 256-character key limit. */
export function storageKeyFor(url: string): string {
  return STORAGE_PREFIX + createHash('sha256').update(url).digest('base64url').slice(0, 22);
}

/**
 * Polls every configured feed on its own interval through one bounded pool, and turns new
 * items into messages exactly once:
 * 1. The first poll of a feed (no stored record) marks its items seen and sends only the newest
 *    `firstPollItems`, so adding a feed never floods.
 * 2. Later polls send unseen items oldest first. Each item is recorded in storage right after
 *    its message was accepted, so a restart repeats nothing that was recorded; the window for
 *    a repeat is one message whose send succeeded just before the process died.
 * 3. A send or storage failure stops the poll: unsent items stay unseen and the next poll (after
 *    backoff) retries them. The conditional-GET validators are replaced only at the end of a
 *    poll that sent everything, so a 304 never hides an unsent item.
 */
export class FeedPoller {
  private config: RssConfig;
  private readonly feeds = new Map<string, FeedState>();
  private readonly limit: LimitFunction;
  private controller?: AbortController;

  constructor(private readonly host: PollerHost, config: RssConfig) {
    this.config = config;
    this.limit = pLimit(config.concurrency);
    for (const feed of config.feeds) this.feeds.set(feed.url, this.newState(feed));
  }

  get running(): boolean {
    return this.controller !== undefined;
  }

  /** Starts polling every feed now. Safe to call twice. */
  start(): void {
    if (this.controller) return;
    this.controller = new AbortController();
    for (const state of this.feeds.values()) this.schedule(state, 0);
    void this.removeStaleRecords();
  }

  /**
   * Stops timers, aborts fetches in flight and waits for running polls to end; a message
   * already handed to the host is recorded before its poll ends. Safe to call twice.
   */
  async stop(): Promise<void> {
    const controller = this.controller;
    if (!controller) return;
    this.controller = undefined;
    controller.abort();
    for (const state of this.feeds.values()) {
      clearTimeout(state.timer);
      state.timer = undefined;
      state.status.nextPollAt = undefined;
    }
    await Promise.allSettled([...this.feeds.values()].map((s) => s.running));
  }

  /**
   * Applies a new configuration to a running or stopped poller. Feeds keep their state by URL;
   * new feeds are polled at once, removed ones stop and their stored record is deleted, and a
   * changed interval moves the next poll.
   */
  reconfigure(config: RssConfig): void {
    const previous = this.config;
    this.config = config;
    this.limit.concurrency = config.concurrency;
    const wanted = new Set(config.feeds.map((f) => f.url));
    for (const [url, state] of this.feeds) {
      if (wanted.has(url)) continue;
      clearTimeout(state.timer);
      state.removed.abort();
      this.feeds.delete(url);
    }
    for (const feed of config.feeds) {
      const state = this.feeds.get(feed.url);
      if (!state) {
        const fresh = this.newState(feed);
        this.feeds.set(feed.url, fresh);
        if (this.controller) this.schedule(fresh, 0);
        continue;
      }
      const oldInterval = state.config.intervalMs;
      state.config = feed;
      state.status.name = this.nameOf(state);
      if (this.controller && !state.running && oldInterval !== feed.intervalMs && state.status.failures === 0) {
        const last = state.status.lastPollAt ?? 0;
        this.schedule(state, Math.max(0, last + feed.intervalMs - Date.now()));
      }
    }
    if (this.controller && previous.feeds.some((f) => !wanted.has(f.url))) void this.removeStaleRecords();
  }

  /** Rows for the display, in configuration order. */
  snapshot(): FeedStatus[] {
    return this.config.feeds.flatMap((f) => {
      const state = this.feeds.get(f.url);
      return state ? [{ ...state.status }] : [];
    });
  }

  /** Resolves when no poll is running or queued (the next timer may still fire). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.feeds.values()].flatMap((s) => (s.running ? [s.running] : []));
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  private newState(config: FeedConfig): FeedState {
    const state: FeedState = {
      config,
      storageKey: storageKeyFor(config.url),
      dirty: false,
      removed: new AbortController(),
      status: { url: config.url, name: '', state: 'pending', failures: 0, sentCount: 0 },
    };
    state.status.name = this.nameOf(state);
    return state;
  }

  private nameOf(state: FeedState): string {
    return state.config.title ?? state.feedTitle ?? new URL(state.config.url).host;
  }

  private schedule(state: FeedState, delayMs: number): void {
    clearTimeout(state.timer);
    state.status.nextPollAt = Date.now() + delayMs;
    state.timer = setTimeout(() => this.enqueue(state), delayMs);
    // The protocol's stdin keeps the process alive; a pending poll must not.
    state.timer.unref();
  }

  private enqueue(state: FeedState): void {
    state.timer = undefined;
    const controller = this.controller;
    if (!controller || state.running || this.feeds.get(state.config.url) !== state) return;
    const signal = AbortSignal.any([controller.signal, state.removed.signal]);
    state.running = this.limit(() => this.pollGuarded(state, signal)).finally(() => {
      state.running = undefined;
      if (!this.controller || this.feeds.get(state.config.url) !== state || state.timer) return;
      // A restart while this poll was draining found it running and skipped it: poll now.
      this.schedule(state, this.controller === controller ? this.nextDelay(state) : 0);
    });
  }

  private nextDelay(state: FeedState): number {
    const { failures } = state.status;
    if (failures === 0) return state.config.intervalMs;
    // Doubles from 2x the interval; capped at 6 h, or at the interval when that is longer.
    const backoff = Math.min(state.config.intervalMs * 2 ** Math.min(failures, 20), Math.max(state.config.intervalMs, MAX_BACKOFF_MS));
    return Math.max(backoff, Math.min(state.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  }

  /** One poll that never throws: every failure becomes the feed's status and a log line. */
  private async pollGuarded(state: FeedState, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    state.status.nextPollAt = undefined;
    try {
      await this.poll(state, signal);
      state.status.state = 'ok';
      state.status.error = undefined;
      state.status.failures = 0;
      state.status.lastPollAt = Date.now();
    } catch (err) {
      if (err instanceof FetchAborted) return;
      state.status.lastPollAt = Date.now();
      state.status.state = 'error';
      state.status.failures++;
      state.status.error = describe(err);
      state.retryAfterMs = err instanceof FeedFetchError ? err.retryAfterMs : undefined;
      const known = err instanceof FeedFetchError || err instanceof FeedParseError;
      this.host.log[known ? 'warn' : 'error']('feed poll failed', {
        feed: state.config.url,
        error: state.status.error,
        failures: state.status.failures,
      });
    }
  }

  private async poll(state: FeedState, signal: AbortSignal): Promise<void> {
    const record = await this.loadRecord(state);
    if (state.dirty && record instanceof FeedRecord) await this.persist(state, record);

    const fetched = await fetchFeed(state.config.url, {
      timeoutMs: this.config.timeoutMs,
      maxBytes: this.config.maxBytes,
      signal,
      ...(record instanceof FeedRecord ? record.validators() : {}),
    });
    if (fetched.kind === 'not-modified') return;

    const feed = parseFeedText(fetched.text, fetched.finalUrl);
    state.feedTitle = feed.title;
    state.status.name = this.nameOf(state);
    state.status.itemCount = feed.entries.length;
    const currentKeys = new Set(feed.entries.map((e) => e.key));

    let toSend: FeedEntry[];
    let target: FeedRecord;
    let adopted = false;
    if (record === 'new') {
      target = new FeedRecord(new SeenSet());
      const newestFirst = newEntriesOldestFirst(feed.entries, target.seen).reverse();
      toSend = newestFirst.slice(0, this.config.firstPollItems).reverse();
      for (const entry of newestFirst.slice(this.config.firstPollItems)) target.seen.add(entry.key);
      // Written before any send: from here on the feed is known and a restart is not a first poll.
      state.record = target;
      await this.persist(state, target);
    } else {
      target = record;
      // An item seen only under another key of its own is recorded under its current one, so
      // compacting (which keeps only current keys for sure) cannot make it new again. A seen-set
      // of version 1 keyed items sharing a link by the link alone: they were all seen (or lost
      // back then), and sending them now would flood the user with old items.
      for (const entry of feed.entries) {
        if (target.seen.has(entry.key)) continue;
        const other = [entry.altKey, target.legacyKeys ? entry.legacyKey : undefined];
        if (other.some((key) => key !== undefined && target.seen.has(key))) {
          target.seen.add(entry.key);
          adopted = true;
        }
      }
      if (target.legacyKeys) {
        target.legacyKeys = false;
        adopted = true;
      }
      toSend = newEntriesOldestFirst(feed.entries, target.seen);
    }

    for (const entry of toSend) {
      // Stopping between items is safe: the rest stay unseen and go out on the next poll.
      if (signal.aborted) throw new FetchAborted('stopped');
      try {
        await this.host.send(itemMessage(entry, state.status.name, state.config.priority, this.config.summaryLength));
      } catch (err) {
        throw new SendFailed(`sending a message failed: ${describe(err)}`);
      }
      state.status.sentCount++;
      target.seen.add(entry.key);
      await this.persist(state, target);
    }

    const compacted = target.seen.size > Math.max(this.config.seenLimit, currentKeys.size);
    if (compacted) target.seen.compact(currentKeys, this.config.seenLimit);
    const validatorsChanged = target.setValidators(fetched.etag, fetched.lastModified);
    if (compacted || validatorsChanged || adopted) await this.persist(state, target);
  }

  private async loadRecord(state: FeedState): Promise<FeedRecord | 'new'> {
    if (state.record !== undefined) return state.record;
    const value = await this.host.kv.get(state.storageKey).catch((err: unknown) => {
      throw new StorageFailed(`reading storage failed: ${describe(err)}`);
    });
    try {
      state.record = FeedRecord.decode(value) ?? 'new';
    } catch (err) {
      // Treated as a new feed: marking current items seen beats sending the whole feed again.
      this.host.log.warn('stored feed record is unreadable; treating the feed as new', { feed: state.config.url, error: describe(err) });
      state.record = 'new';
    }
    return state.record;
  }

  private async persist(state: FeedState, record: FeedRecord): Promise<void> {
    try {
      await this.host.kv.set(state.storageKey, record.encode());
      state.dirty = false;
    } catch (err) {
      state.dirty = true;
      throw new StorageFailed(`saving seen items failed: ${describe(err)}`);
    }
  }

  /** Deletes the records of feeds no longer configured, so storage does not grow forever. */
  private async removeStaleRecords(): Promise<void> {
    try {
      const wanted = new Set([...this.feeds.values()].map((s) => s.storageKey));
      for (const key of await this.host.kv.list(STORAGE_PREFIX)) {
        if (!wanted.has(key)) await this.host.kv.delete(key);
      }
    } catch (err) {
      this.host.log.warn('could not remove records of removed feeds', { error: describe(err) });
    }
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
