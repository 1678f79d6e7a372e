import { validateHeaderName, validateHeaderValue, type ServerResponse } from 'node:http';
import { FlowError, notFound } from '../errors.js';
import type { CancelSignal } from '../plugins/connection.js';
import { readRawBody } from '../http/body.js';
import { relayTo } from '../cluster/forward-client.js';
import { isRelayed, originAddress, originLocation } from '../cluster/forwarded.js';
import { authOf, type FlowContext } from '../http/state.js';
import { WEBHOOK_ROUTE, webhookBasePath } from '../model/webhook-path.js';
import type { PluginService } from '../services/plugin.js';
import { createRouter, emptyOk, idParam, type FlowRouter, type RouteDeps } from './deps.js';

const EMPTY = Buffer.alloc(0);

/** Response headers the relay never copies from a plugin: Node frames the response itself. */
const HOP_BY_HOP = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'trailer', 'te', 'proxy-connection']);

/**
 * The response's 'close' before it was written means the client went away: the plugin call is
 * cancelled ($/cancelRequest) instead of left running. A CancelSignal over the event, so no
 * AbortController is allocated per webhook. It holds one listener, which is all a call
 * registers (PendingCall adds one and removes it when the call ends): no Map per webhook.
 */
class ClientGone implements CancelSignal {
  private listener: (() => void) | undefined;
  private readonly onClose = (): void => {
    if (!this.res.writableFinished) this.listener?.();
  };

  constructor(private readonly res: ServerResponse) {}

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener) throw new Error('ClientGone holds one listener');
    this.listener = listener;
    this.res.once('close', this.onClose);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener !== listener) return;
    this.listener = undefined;
    this.res.off('close', this.onClose);
  }
}

/**
 * /plugin: Gotify's plugin endpoints (client auth), the webhook relay (no auth: the token in
 * the path is the secret) and Flow's admin endpoints:
 * - GET  /plugin/admin/processes                 every plugin in the folder: pid, uptime, restarts, status, last error, stderr
 * - POST /plugin/admin/processes/:name/restart   restart one (clears failed/incompatible); :name is its entry in the folder
 */
export function pluginRoutes(deps: RouteDeps & { plugins: PluginService }): FlowRouter {
  const { auth, plugins } = deps;
  const limit = deps.config['limits.bodybytes'];
  const router = createRouter();

  /**
   * With replicas: a call for an instance another replica runs is relayed there whole (its
   * answer becomes this one's); true when it was. On one server: false at once.
   */
  const relayed = async (ctx: FlowContext, owner: Promise<string | undefined>, body: Buffer = EMPTY): Promise<boolean> => {
    const opts = plugins.relayOptions();
    const url = opts && (await owner);
    if (!opts || url === undefined) return false;
    await relayTo(ctx, url, body, opts);
    return true;
  };
  const ownerOf = (ctx: FlowContext, pluginOnly = false) => plugins.ownerElsewhere(authOf(ctx).userId, idParam(ctx), isRelayed(ctx), pluginOnly);

  router.get('/plugin', auth.requireClient, (ctx) => {
    ctx.body = plugins.list(authOf(ctx).userId);
  });

  router.get('/plugin/admin/processes', auth.requireAdmin, (ctx) => {
    ctx.body = plugins.processes();
  });

  router.post('/plugin/admin/processes/:name/restart', auth.requireAdmin, async (ctx) => {
    ctx.body = await plugins.restart(ctx.params.name!);
  });

  router.post('/plugin/:id/enable', auth.requireClient, async (ctx) => {
    if (await relayed(ctx, ownerOf(ctx))) return;
    await plugins.enable(authOf(ctx).userId, idParam(ctx));
    emptyOk(ctx);
  });

  router.post('/plugin/:id/disable', auth.requireClient, async (ctx) => {
    if (await relayed(ctx, ownerOf(ctx))) return;
    await plugins.disable(authOf(ctx).userId, idParam(ctx));
    emptyOk(ctx);
  });

  // Config and schema need the plugin, not the instance: relayed only from a replica without the plugin.
  router.get('/plugin/:id/config', auth.requireClient, async (ctx) => {
    if (await relayed(ctx, ownerOf(ctx, true))) return;
    const text = plugins.getConfig(authOf(ctx).userId, idParam(ctx));
    ctx.body = text;
    ctx.type = 'application/x-yaml';
  });

  router.post('/plugin/:id/config', auth.requireClient, async (ctx) => {
    const id = idParam(ctx);
    const userId = authOf(ctx).userId;
    const raw = await readRawBody(ctx, limit);
    if (await relayed(ctx, ownerOf(ctx), raw)) return;
    const text = raw.toString('utf8');
    await plugins.setConfig(userId, id, text);
    emptyOk(ctx);
  });

  // 1.1: the JSON Schema of the plugin's config (spec §7.6), for editors that build a form; 404 when none.
  router.get('/plugin/:id/configschema', auth.requireClient, async (ctx) => {
    if (await relayed(ctx, ownerOf(ctx, true))) return;
    ctx.body = plugins.getConfigSchema(authOf(ctx).userId, idParam(ctx));
    ctx.type = 'application/json';
  });

  router.get('/plugin/:id/display', auth.requireClient, async (ctx) => {
    if (await relayed(ctx, ownerOf(ctx))) return;
    const markdown = await plugins.display(authOf(ctx).userId, idParam(ctx), originLocation(ctx));
    ctx.body = JSON.stringify(markdown);
    ctx.type = 'application/json';
  });

  // The relay: any method, path, query, headers and body go to the plugin; its status,
  // headers and bytes come back untouched (no JSON content type, no CORS: as Gotify).
  router.all(WEBHOOK_ROUTE, async (ctx) => {
    const idRaw = ctx.params.id!;
    if (!/^\d{1,15}$/.test(idRaw)) throw notFound('page not found');
    const token = ctx.params.token!;
    const hasBody = ctx.req.headers['content-length'] !== undefined || ctx.req.headers['transfer-encoding'] !== undefined;
    const owner = plugins.relayOptions() && (await plugins.webhookOwnerElsewhere(Number(idRaw), token, isRelayed(ctx)));
    if (owner !== undefined && (await relayed(ctx, Promise.resolve(owner), hasBody ? await readRawBody(ctx, limit) : EMPTY))) return;
    // Token, capability, enabled and running are checked once, before the body is read.
    const target = plugins.webhookTarget(Number(idRaw), token);
    // The instance's base path without its trailing slash: what follows is the plugin's own path.
    const sub = ctx.path.slice(webhookBasePath({ id: idRaw, token }).length - 1);
    // Most webhooks are GETs without a body: skip the stream iteration when nothing can follow.
    const body = hasBody ? await readRawBody(ctx, limit) : EMPTY;
    const headers: Record<string, string> = {};
    const raw = ctx.req.headers;
    for (const name in raw) {
      const value = raw[name];
      // Flow's own API token is never handed to plugin code; Authorization is the plugin's business.
      if (value !== undefined && name !== 'x-gotify-key') headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const reply = await plugins.webhook(target, {
      method: ctx.method,
      path: sub === '' ? '/' : sub,
      query: ctx.querystring,
      headers,
      body,
      remoteAddress: originAddress(ctx),
      signal: new ClientGone(ctx.res),
    });
    // 1xx is informational: as the final status it leaves the client waiting for a response
    // that never comes (100) or claims a protocol switch the relay cannot make (101).
    if (reply.status < 200) {
      ctx.state.log.warn({ status: reply.status }, 'plugin answered a webhook with an informational status');
      throw new FlowError('FLOW_ERR_PLUGIN_BAD_RESPONSE', `the plugin answered webhook/request with the informational status ${reply.status}, which cannot end a response`);
    }
    // Checked before anything is set: a header Node refuses (CR/LF, an invalid name) is the
    // plugin's malformed answer, 502 like any other, not a 500 from deep inside Node.
    const replyHeaders = Object.entries(reply.headers ?? {}).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()));
    for (const [name, value] of replyHeaders) {
      try {
        validateHeaderName(name);
        for (const v of Array.isArray(value) ? value : [value]) validateHeaderValue(name, v);
      } catch {
        ctx.state.log.warn({ header: name.slice(0, 100) }, 'plugin answered a webhook with an invalid response header');
        throw new FlowError('FLOW_ERR_PLUGIN_BAD_RESPONSE', `the plugin answered webhook/request with an invalid header ${JSON.stringify(name.slice(0, 100))}`);
      }
    }
    ctx.status = reply.status;
    for (const [name, value] of replyHeaders) ctx.set(name, value);
    const bytes = reply.body === undefined ? EMPTY : Buffer.from(reply.body, 'base64');
    // Written directly: Koa would add a Content-Type to a Buffer body the plugin sent without one.
    ctx.respond = false;
    ctx.res.statusCode = reply.status;
    const bodyless = ctx.method === 'HEAD' || reply.status === 204 || reply.status === 304 || (reply.status >= 100 && reply.status < 200);
    if (!bodyless) ctx.res.setHeader('Content-Length', bytes.length);
    ctx.res.end(bodyless ? undefined : bytes);
  });

  return router;
}
