import type { FlowContext } from './state.js';

/**
 * `scheme://host` of the URL the caller used, as Gotify's location middleware
 * (gotify/location, applied to every route) resolves it for absolute URLs such as
 * `paging.next`: https when `X-Forwarded-Proto` is exactly "https" or the socket is TLS;
 * host from `X-Forwarded-Host`, then `X-Host`, then `Host`. Gotify trusts these headers
 * without a trusted-proxy check; they only shape the URL sent back to the same caller.
 */
export function requestOrigin(ctx: FlowContext): string {
  const scheme = ctx.get('x-forwarded-proto') === 'https' || ctx.protocol === 'https' ? 'https' : 'http';
  const host = ctx.get('x-forwarded-host') || ctx.get('x-host') || ctx.host || 'localhost:8080';
  return `${scheme}://${host}`;
}
