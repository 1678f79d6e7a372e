import type { IncomingHttpHeaders } from 'node:http';
import type { FlowContext } from './state.js';

/**
 * The one reader of proxy headers (X-Forwarded-Proto, X-Forwarded-Host, X-Host,
 * X-Forwarded-Prefix). A chain of proxies writes comma lists; the first value is the one the
 * client used, which is how Koa reads X-Forwarded-* too. Gotify trusts these headers without a
 * trusted-proxy check (so does Flow): they only shape URLs sent back to the same caller (paging
 * links, a plugin's webhook base) and which Origin counts as the caller's own (CORS, /stream).
 */

/** The first value of a proxy header's comma list, trimmed; undefined when absent or empty. */
export function firstForwarded(value: string | string[] | undefined): string | undefined {
  return (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() || undefined;
}

/** The public host the client used when a proxy rewrote Host (X-Forwarded-Host), lower-cased. */
export function forwardedHost(headers: IncomingHttpHeaders): string | undefined {
  return firstForwarded(headers['x-forwarded-host'])?.toLowerCase();
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
  const h = ctx.req.headers;
  const proto = firstForwarded(h['x-forwarded-proto'])?.toLowerCase();
  const scheme = proto === 'https' || (proto === undefined && ctx.protocol === 'https') ? 'https' : 'http';
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
