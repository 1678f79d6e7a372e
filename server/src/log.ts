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
}

/** The root logger. Everything else takes a child of it (`logger.child({ reqId })`). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { name: 'flow' },
      redact: { paths: REDACT, censor: '[masked]' },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
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
