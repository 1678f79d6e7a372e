import { timingSafeEqual } from 'node:crypto';
import { FlowError } from '../errors.js';
import type { CallerLocation } from '../http/location.js';
import type { FlowMiddleware } from '../http/state.js';
import { ADDRESS_HEADER, LOCATION_HEADER, RELAY_PREFIX, SECRET_HEADER } from './forward-client.js';
import { markRelayed } from './forwarded.js';

/** Compared in constant time (only the length, which the secret's owner chose, can show through the timing). */
function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(secret, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function locationOf(raw: string | undefined): CallerLocation | undefined {
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<CallerLocation>;
    if ((v.scheme === 'http' || v.scheme === 'https') && typeof v.host === 'string' && typeof v.prefix === 'string') return { scheme: v.scheme, host: v.host, prefix: v.prefix };
  } catch {
    // refused below
  }
  return undefined;
}

/**
 * `/internal/cluster/relay/plugin/…`: a public plugin request (webhook, display, config,
 * enable, disable) that another replica relayed here because this replica runs the instance
 * (cluster/forward-client.ts). Only with `cluster.secret` (compared in constant time; empty
 * secret: the endpoint is closed): 401 otherwise, and the secret header never reaches a log
 * or the plugin. The request then goes through the public routes as if the caller had come
 * here (its own credentials are checked there), marked as relayed so it is never relayed on.
 * Any other `/internal/cluster/…` path is 404 here.
 */
export function relayEndpoint(secret: string): FlowMiddleware {
  return async (ctx, next) => {
    if (!ctx.path.startsWith('/internal/cluster/')) return next();
    const given = ctx.req.headers[SECRET_HEADER];
    delete ctx.req.headers[SECRET_HEADER];
    if (secret === '' || typeof given !== 'string' || !sameSecret(given, secret)) {
      ctx.set(SECRET_HEADER, 'refused');
      throw new FlowError('FLOW_ERR_UNAUTHORIZED', 'this endpoint is for the other Flow replicas (cluster.secret)');
    }
    const rest = ctx.path.slice(RELAY_PREFIX.length);
    const location = locationOf(ctx.req.headers[LOCATION_HEADER] as string | undefined);
    if (!ctx.path.startsWith(RELAY_PREFIX + '/plugin/') || !location) throw new FlowError('FLOW_ERR_NOT_FOUND', 'page not found');
    const address = ctx.req.headers[ADDRESS_HEADER];
    markRelayed(ctx.req, { clientAddress: typeof address === 'string' ? address : undefined, location });
    delete ctx.req.headers[ADDRESS_HEADER];
    delete ctx.req.headers[LOCATION_HEADER];
    ctx.path = rest;
    await next();
  };
}
