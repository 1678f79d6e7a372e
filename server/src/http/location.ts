import type { IncomingHttpHeaders } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { FlowContext } from './state.js';

/**
 * The one reader of proxy headers (X-Forwarded-Proto, X-Forwarded-Host, X-Host,
 * X-Forwarded-Prefix, X-Forwarded-For, X-Real-IP). A chain of proxies writes comma lists; the
 * first value is the one the client used, which is how Koa reads X-Forwarded-* too.
 *
 * Whom to believe is `server.trustedproxies` (Gotify's key):
 * - empty (the default), as Gotify: X-Forwarded-Proto/-Host/-Prefix are read from any caller
 *   (they only shape URLs sent back to that same caller, paging links and a plugin's webhook
 *   base, and which Origin counts as the caller's own for CORS and /stream), and the client
 *   address is the peer's: X-Forwarded-For from anyone would let a password guesser pick a new
 *   address for every try (login throttling);
 * - set: only a peer in the list is a proxy. Its X-Forwarded-* headers are read, and the client
 *   address is found as gin (Gotify's router) finds it: X-Forwarded-For (else X-Real-IP) read
 *   from the right, skipping trusted proxies. Any other peer's X-Forwarded-* headers are ignored.
 */

/** The trusted proxies of one server; attached to each request by `attachProxyTrust`. */
export class ProxyTrust {
  private readonly list = new BlockList();
  readonly configured: boolean;

  /** `entries`: IPs and CIDR ranges, checked by the config key. */
  constructor(entries: readonly string[]) {
    this.configured = entries.length > 0;
    for (const entry of entries) {
      const [address, prefix] = entry.split('/') as [string, string | undefined];
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(prefix), type);
    }
  }

  /** Whether `address` (a socket's remote address or a header's entry) is a trusted proxy. */
  trusts(address: string | undefined): boolean {
    if (!this.configured || address === undefined) return false;
    const plain = unmapped(address);
    const family = isIP(plain);
    return family !== 0 && this.list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) → `10.0.0.1`. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** What the functions below read of a request: its headers and the peer's address. */
export type ProxiedRequest = { headers: IncomingHttpHeaders; socket?: { remoteAddress?: string } };

const trustOf = new WeakMap<object, ProxyTrust>();
const NO_PROXIES = new ProxyTrust([]);

/** Called once per request (HTTP and websocket upgrades) before anything reads its headers. */
export function attachProxyTrust(req: ProxiedRequest, trust: ProxyTrust): void {
  if (trust.configured) trustOf.set(req, trust);
}

/** Whether this request's X-Forwarded-* headers are believed (see the top of this file). */
export function forwardedHeadersTrusted(req: ProxiedRequest): boolean {
  const trust = trustOf.get(req) ?? NO_PROXIES;
  return !trust.configured || trust.trusts(req.socket?.remoteAddress);
}

/** The first value of a proxy header's comma list, trimmed; undefined when absent or empty. */
export function firstForwarded(value: string | string[] | undefined): string | undefined {
  return (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() || undefined;
}

/** The public host the client used when a proxy rewrote Host (X-Forwarded-Host), lower-cased. */
export function forwardedHost(req: ProxiedRequest): string | undefined {
  return forwardedHeadersTrusted(req) ? firstForwarded(req.headers['x-forwarded-host'])?.toLowerCase() : undefined;
}

/**
 * The client's address: the peer's, or with trusted proxies configured and the peer one of them,
 * the first address of X-Forwarded-For (else X-Real-IP) from the right that is not a trusted
 * proxy (the leftmost when all are). A malformed entry ends the walk at the peer's address.
 */
export function clientAddress(req: ProxiedRequest): string | undefined {
  const peer = req.socket?.remoteAddress;
  const trust = trustOf.get(req);
  if (trust === undefined || !trust.trusts(peer)) return peer;
  for (const header of ['x-forwarded-for', 'x-real-ip'] as const) {
    const raw = req.headers[header];
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (value === undefined || value.trim() === '') continue;
    const hops = value.split(',').map((h) => h.trim());
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = unmapped(hops[i]!);
      if (isIP(hop) === 0) return peer;
      if (i === 0 || !trust.trusts(hop)) return hop;
    }
  }
  return peer;
}

export interface CallerLocation {
  scheme: 'http' | 'https';
  host: string;
  /** The reverse proxy's path prefix ("" or "/sub"), from X-Forwarded-Prefix; Gotify ignores it. */
  prefix: string;
}

/**
 * Where the caller is looking from, as Gotify's location middleware (gotify/location) resolves
 * it: https when X-Forwarded-Proto says so or the socket is TLS; host from X-Forwarded-Host,
 * then X-Host, then Host.
 */
export function callerLocation(ctx: FlowContext): CallerLocation {
  const socketScheme = ctx.protocol === 'https' ? 'https' : 'http';
  if (!forwardedHeadersTrusted(ctx.req)) return { scheme: socketScheme, host: ctx.host || 'localhost:8080', prefix: '' };
  const h = ctx.req.headers;
  const proto = firstForwarded(h['x-forwarded-proto'])?.toLowerCase();
  const scheme = proto === 'https' || (proto === undefined && socketScheme === 'https') ? 'https' : 'http';
  const host = firstForwarded(h['x-forwarded-host']) ?? firstForwarded(h['x-host']) ?? (ctx.host || 'localhost:8080');
  const rawPrefix = firstForwarded(h['x-forwarded-prefix']) ?? '';
  const prefix = rawPrefix === '' ? '' : '/' + rawPrefix.replace(/^\/+|\/+$/g, '');
  return { scheme, host, prefix: prefix === '/' ? '' : prefix };
}

/** `scheme://host` of the URL the caller used, for absolute URLs such as `paging.next`. */
export function requestOrigin(ctx: FlowContext): string {
  const { scheme, host } = callerLocation(ctx);
  return `${scheme}://${host}`;
}
