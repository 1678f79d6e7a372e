import { formatDuration, parseByteSize, parseDuration } from './units.js';

/** One feed as the poller sees it, with every default applied. */
export interface FeedConfig {
  /** Normalised absolute http(s) URL; also the feed's identity (storage key, display row). */
  url: string;
  /** Shown in the display and in messages; when absent the feed's own title is used. */
  title?: string;
  intervalMs: number;
  priority: number;
}

export interface RssConfig {
  feeds: FeedConfig[];
  /** Fetches in flight at once across all feeds of the instance. */
  concurrency: number;
  timeoutMs: number;
  maxBytes: number;
  /** Ids remembered per feed; the effective cap is never below the feed's current item count. */
  seenLimit: number;
  /** Newest items sent when a feed is polled for the first time (0: only mark them seen). */
  firstPollItems: number;
  /** Characters of the item summary put in the message (0: none). */
  summaryLength: number;
}

/** The YAML a new instance starts with. Comments stay: the kit keeps text defaults as they are. */
export const DEFAULT_CONFIG_YAML = `# Feeds to poll. Each entry: url (required), title, interval, priority.
# Example:
# feeds:
#   - url: https://blog.example.com/feed.xml
#     title: Example blog
#     interval: 30m
#     priority: 6
feeds: []

# Defaults for feeds that do not set their own.
interval: 10m   # durations: 90s, 10m, 1h30m, or a number of seconds
priority: 5

# Politeness and limits.
concurrency: 8        # feeds fetched at the same time
timeout: 20s          # per request, body included
max_size: 5MB         # larger responses are rejected
seen_limit: 200       # item ids remembered per feed (never fewer than the feed holds)
first_poll_items: 0   # newest items to send when a feed is first polled; older ones are only marked seen
summary_length: 400   # characters of the item summary in each message; 0 for none
`;

/**
 * The shortest interval accepted. An operator can lower it with FLOW_RSS_MIN_INTERVAL (a
 * duration, e.g. `1s`) for feeds on their own network; tests use it to poll quickly.
 */
export function minIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FLOW_RSS_MIN_INTERVAL;
  if (raw === undefined || raw === '') return 60_000;
  const ms = parseDuration(raw);
  return ms === undefined ? 60_000 : ms;
}

/** Thrown with a short reason the user sees when their configuration is rejected. */
export class InvalidRssConfig extends Error {
  override name = 'InvalidRssConfig';
}

function fail(reason: string): never {
  throw new InvalidRssConfig(reason);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function durationField(value: unknown, where: string, min: number, max: number): number {
  const ms = parseDuration(value);
  if (ms === undefined) fail(`${where}: not a duration (use e.g. 90s, 10m, 1h)`);
  if (ms < min) fail(`${where}: must be at least ${formatDuration(min)}`);
  if (ms > max) fail(`${where}: must be at most ${formatDuration(max)}`);
  return ms;
}

function intField(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(`${where}: must be a whole number`);
  if (value < min || value > max) fail(`${where}: must be between ${min} and ${max}`);
  return value;
}

function feedUrl(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') fail(`${where}: required`);
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    fail(`${where}: not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`${where}: only http and https URLs are allowed`);
  if (url.username !== '' || url.password !== '') fail(`${where}: credentials in the URL are not supported`);
  url.hash = '';
  return url.href;
}

const DAY = 24 * 3600_000;

/**
 * Checks a parsed YAML document (already merged onto the defaults by the kit) and returns the
 * normalised configuration. Throws InvalidRssConfig with a reason such as
 * `feeds[2].interval: must be at least 1m`. Unknown keys are ignored, as the protocol asks.
 */
export function parseRssConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): RssConfig {
  if (raw === null || raw === undefined) raw = {};
  if (!isRecord(raw)) fail('the configuration must be a mapping of keys to values');
  const minInterval = minIntervalMs(env);

  const interval = durationField(raw.interval ?? '10m', 'interval', minInterval, 7 * DAY);
  const priority = intField(raw.priority ?? 5, 'priority', 0, 10);
  const feedsRaw = raw.feeds ?? [];
  if (!Array.isArray(feedsRaw)) fail('feeds: must be a list');

  const seen = new Map<string, number>();
  const feeds = feedsRaw.map((entry, i): FeedConfig => {
    const where = `feeds[${i}]`;
    // A bare string is the URL alone: the shortest way to list feeds.
    const feed: Record<string, unknown> = typeof entry === 'string' ? { url: entry } : isRecord(entry) ? entry : fail(`${where}: must be a URL or a mapping with url`);
    const url = feedUrl(feed.url, `${where}.url`);
    const first = seen.get(url);
    if (first !== undefined) fail(`${where}.url: duplicates feeds[${first}]`);
    seen.set(url, i);
    const title = feed.title;
    if (title !== undefined && title !== null && typeof title !== 'string') fail(`${where}.title: must be text`);
    return {
      url,
      ...(typeof title === 'string' && title.trim() !== '' ? { title: title.trim() } : {}),
      intervalMs: feed.interval === undefined || feed.interval === null ? interval : durationField(feed.interval, `${where}.interval`, minInterval, 7 * DAY),
      priority: feed.priority === undefined || feed.priority === null ? priority : intField(feed.priority, `${where}.priority`, 0, 10),
    };
  });

  const maxBytes = parseByteSize(raw.max_size ?? '5MB');
  if (maxBytes === undefined) fail('max_size: not a size (use e.g. 512KB, 5MB)');
  if (maxBytes < 1024 || maxBytes > 64 * 1024 * 1024) fail('max_size: must be between 1KB and 64MB');

  return {
    feeds,
    concurrency: intField(raw.concurrency ?? 8, 'concurrency', 1, 64),
    timeoutMs: durationField(raw.timeout ?? '20s', 'timeout', 100, 300_000),
    maxBytes,
    seenLimit: intField(raw.seen_limit ?? 200, 'seen_limit', 10, 10_000),
    firstPollItems: intField(raw.first_poll_items ?? 0, 'first_poll_items', 0, 100),
    summaryLength: intField(raw.summary_length ?? 400, 'summary_length', 0, 10_000),
  };
}
