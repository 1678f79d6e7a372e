import type { IncomingMessage } from 'node:http';
import { callerLocation, clientAddress, type CallerLocation } from '../http/location.js';
import type { FlowContext } from '../http/state.js';

/**
 * A public request another replica relayed to this one (cluster/forward-relay.ts) because this
 * replica runs the plugin instance it is for. The relaying replica saw the caller: its address
 * (after `server.trustedproxies`) and the location it used (scheme, host, prefix from the proxy
 * headers) travel in `x-flow-cluster-*` headers, which are believed only on a request that
 * passed the cluster secret. The plugin then sees the same remote address and webhook URLs
 * whichever replica the caller reached.
 */
export interface RelayedOrigin {
  clientAddress: string | undefined;
  location: CallerLocation;
}

const relayed = new WeakMap<IncomingMessage, RelayedOrigin>();

/** Marks `req` as relayed by an authenticated replica, with the caller's origin. */
export function markRelayed(req: IncomingMessage, origin: RelayedOrigin): void {
  relayed.set(req, origin);
}

/** Whether this request was relayed by another replica (then it is never relayed again). */
export function isRelayed(ctx: FlowContext): boolean {
  return relayed.has(ctx.req);
}

/** The caller's address: as the relaying replica saw it, else from this request. */
export function originAddress(ctx: FlowContext): string | undefined {
  const r = relayed.get(ctx.req);
  return r ? r.clientAddress : clientAddress(ctx.req);
}

/** The location the caller used: as the relaying replica saw it, else from this request. */
export function originLocation(ctx: FlowContext): CallerLocation {
  return relayed.get(ctx.req)?.location ?? callerLocation(ctx);
}
