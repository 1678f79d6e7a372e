import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear in a log object. Passwords and tokens should never
 * reach a log call in the first place; this is the second line of defence.
 */
const REDACT = [
  'pass',
  'password',
  '*.pass',
  '*.password',
  'token',
  '*.token',
  'headers.authorization',
  'headers["x-gotify-key"]',
  '*.headers.authorization',
  '*.headers["x-gotify-key"]',
];

export interface LoggerOptions {
  /** pino level; 'silent' for tests. */
  level?: string;
  /** Defaults to stdout; tests may pass a stream to capture lines. */
  destination?: DestinationStream;
  /**
   * `json`: one JSON object per line; `pretty`: coloured human lines (pino-pretty, in pino's
   * transport worker, so formatting never runs on the request path); `auto` (default): pretty
   * when stdout is a terminal, JSON otherwise (files, journald, containers, log shippers).
   * Ignored when `destination` is given.
   */
  format?: 'auto' | 'json' | 'pretty' | string;
}

/** The root logger. Everything else takes a child of it (`logger.child({ reqId })`). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const pretty = opts.destination === undefined && (opts.format === 'pretty' || ((opts.format ?? 'auto') === 'auto' && process.stdout.isTTY === true));
  return pino(
    {
      level: opts.level ?? 'info',
      base: { name: 'flow' },
      redact: { paths: REDACT, censor: '[masked]' },
    },
    opts.destination ??
      (pretty
        ? pino.transport({
            target: 'pino-pretty',
            options: { destination: 1, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' },
          })
        : pino.destination({ fd: 1, sync: false })),
  );
}

const TOKEN_QUERY = /([?&]token=)[^&#]*/gi;
// Repeated slashes too: cleanPath() routes `//plugin/1/custom/<token>` to the webhook as well.
const WEBHOOK_TOKEN = /^(\/+plugin\/+[^/]*\/+custom\/+)[^/?#]+/i;

/**
 * Masks secrets that travel in URLs: `token=` query values and the token segment of
 * `/plugin/:id/custom/<token>/...` webhook paths (Gotify logs both in clear).
 */
export function maskUrl(url: string): string {
  const masked = url.replace(WEBHOOK_TOKEN, '$1[masked]');
  // Most URLs have no query value at all: skip the global scan then.
  return masked.includes('=') ? masked.replace(TOKEN_QUERY, '$1[masked]') : masked;
}
