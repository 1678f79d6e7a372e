import { FlowError } from '../errors.js';
import type { FlowContext } from '../http/state.js';
import { originAddress, originLocation } from './forwarded.js';

/** Request headers never relayed: Node frames the request itself; `host` is the owner's. */
const HOP_BY_HOP = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'trailer', 'te', 'proxy-connection', 'host', 'expect']);

export const SECRET_HEADER = 'x-flow-cluster-secret';
export const ADDRESS_HEADER = 'x-flow-cluster-client-address';
export const LOCATION_HEADER = 'x-flow-cluster-location';
/** Where relayed public requests arrive on the owner: this prefix + the public path. */
export const RELAY_PREFIX = '/internal/cluster/relay';

export interface RelayOptions {
  /** `cluster.secret`. */
  secret: string;
  /** The owner's answer must arrive within this (the plugin call's own deadline plus a margin). */
  timeoutMs: number;
}

const unavailable = (message: string, cause?: unknown) => new FlowError('FLOW_ERR_PLUGIN_NOT_RUNNING', message, { cause });

/**
 * Relays the public request in `ctx` (its body already read, bounded like any plugin endpoint)
 * to the replica at `ownerUrl` that runs the plugin instance, and writes that replica's answer —
 * status, headers, bytes — as this request's answer: the caller sees no difference beyond
 * latency. The caller's credentials go along (the owner authenticates them against the same
 * database); the caller's address and location go in `x-flow-cluster-*` headers. An owner
 * that cannot be reached (killed, partitioned) or does not answer in time → 503, which a
 * client retries: by then the lease has moved and the retry lands on the new owner.
 */
export async function relayTo(ctx: FlowContext, ownerUrl: string, body: Buffer, opts: RelayOptions): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith('x-flow-cluster-')) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  headers[SECRET_HEADER] = opts.secret;
  const address = originAddress(ctx);
  if (address !== undefined) headers[ADDRESS_HEADER] = address;
  headers[LOCATION_HEADER] = JSON.stringify(originLocation(ctx));
  const aborter = new AbortController();
  const timer = setTimeout(() => aborter.abort(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
  // The caller went away: the owner's request is cancelled, and with it the plugin call there.
  const gone = () => aborter.abort(new Error('the caller went away'));
  ctx.res.once('close', gone);
  const target = ownerUrl + RELAY_PREFIX + ctx.path + (ctx.querystring === '' ? '' : `?${ctx.querystring}`);
  let res: Response;
  let bytes: Buffer;
  try {
    res = await fetch(target, { method: ctx.method, headers, body: body.length === 0 ? undefined : body, redirect: 'manual', signal: aborter.signal });
    bytes = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    throw unavailable('the replica running this plugin instance did not answer; try again shortly (the instance moves to another replica within seconds)', err);
  } finally {
    clearTimeout(timer);
    ctx.res.off('close', gone);
  }
  if (res.status === 401 && res.headers.get(SECRET_HEADER) === 'refused') {
    ctx.state.log.error({ owner: ownerUrl }, 'another replica refused this replica\'s cluster.secret: set the same cluster.secret on every replica');
    throw unavailable('the replica running this plugin instance refused the relay; try again later');
  }
  ctx.respond = false;
  ctx.res.statusCode = res.status;
  res.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== 'set-cookie') ctx.res.setHeader(name, value);
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length > 0) ctx.res.setHeader('set-cookie', cookies);
  const bodyless = ctx.method === 'HEAD' || res.status === 204 || res.status === 304;
  if (!bodyless) ctx.res.setHeader('Content-Length', bytes.length);
  ctx.res.end(bodyless ? undefined : bytes);
}
