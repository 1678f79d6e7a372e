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

/**
 * pino's error serializer minus what may carry request bytes: Node's HTTP parser errors hold the
 * raw packet (`rawPacket`: request line and headers, credentials included), and any other Buffer
 * property is dropped for the same reason.
 */
function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown;
  stripBytes(out, 0);
  return out;
}

function stripBytes(v: unknown, depth: number): void {
  if (v === null || typeof v !== 'object' || depth > 8) return;
  const o = v as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    const x = o[key];
    if (key === 'rawPacket' || x instanceof Uint8Array) delete o[key];
    else stripBytes(x, depth + 1);
  }
}

/** The root logger. Everything else takes a child of it (`logger.child({ reqId })`). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const pretty = opts.destination === undefined && (opts.format === 'pretty' || ((opts.format ?? 'auto') === 'auto' && process.stdout.isTTY === true));
  return pino(
    {
      level: opts.level ?? 'info',
      base: { name: 'flow' },
      redact: { paths: REDACT, censor: '[masked]' },
      serializers: { err: serializeError },
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

/** decodeURIComponent, or the text itself when it is not valid percent-encoding. */
function decode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const MASK = '[masked]';
// An absolute-form request line (`GET http://host/path HTTP/1.1`) is routed by its path.
const ABSOLUTE = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i;

/** The path with the token segment of `/plugin/:id/custom/<token>/...` masked, judged on decoded segments. */
function maskPath(p: string): string {
  const parts = p.split('/');
  // Empty segments too: cleanPath() routes `//plugin//1/custom/<token>` to the webhook as well.
  const named: number[] = [];
  for (let i = 0; i < parts.length && named.length < 7; i++) if (parts[i] !== '') named.push(i);
  // A webhook another replica relayed here: /internal/cluster/relay/plugin/:id/custom/<token> (cluster/forward-endpoint.ts).
  if (named.length === 7 && parts.slice(named[0], named[2]! + 1).filter((x) => x !== '').join('/').toLowerCase() === 'internal/cluster/relay') named.splice(0, 3);
  if (named.length >= 4 && decode(parts[named[0]!]!).toLowerCase() === 'plugin' && decode(parts[named[2]!]!).toLowerCase() === 'custom') {
    parts[named[3]!] = MASK;
    return parts.join('/');
  }
  return p;
}

/**
 * Query parameters that carry secrets: Gotify's `token`, and what an OIDC provider's redirect
 * brings to /auth/oidc/callback (the authorization code, state, and tokens some providers send).
 */
const SECRET_QUERY_NAMES = new Set(['token', 'code', 'state', 'code_verifier', 'id_token', 'access_token', 'refresh_token']);

/** The query with every secret value (`token`, OIDC's `code`, …) masked, whatever the case or percent-encoding of its name. */
function maskQuery(q: string): string {
  if (!q.includes('=')) return q;
  return q
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const name = decode(pair.slice(0, eq).replace(/\+/g, ' '));
      return SECRET_QUERY_NAMES.has(name.toLowerCase()) ? `${pair.slice(0, eq)}=${MASK}` : pair;
    })
    .join('&');
}

/**
 * Masks secrets that travel in URLs (Gotify logs both in clear): `token=` query values and the
 * token segment of `/plugin/:id/custom/<token>/...` webhook paths, decided after
 * percent-decoding (`?%74oken=` authenticates like `?token=`), for absolute-form request lines
 * too (their user info as well).
 */
export function maskUrl(url: string): string {
  let head = '';
  let rest = url;
  const abs = ABSOLUTE.exec(url);
  if (abs) {
    const authority = abs[2]!;
    const at = authority.lastIndexOf('@');
    head = abs[1]! + (at >= 0 ? `${MASK}@${authority.slice(at + 1)}` : authority);
    rest = url.slice(abs[0].length);
  }
  const hash = rest.indexOf('#');
  const fragment = hash >= 0 ? rest.slice(hash) : '';
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const path = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? '?' + maskQuery(rest.slice(q + 1)) : '';
  return head + maskPath(path) + query + maskQuery(fragment);
}
