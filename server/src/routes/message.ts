import { badRequest } from '../errors.js';
import { queryFields, readFields } from '../http/body.js';
import { requestOrigin } from '../http/location.js';
import { exactRoute } from '../http/exact-route.js';
import { authOf, type FlowContext, type FlowMiddleware } from '../http/state.js';
import { toExternalMessage, type MessageRecord, type PagedMessages } from '../model/message.js';
import { createRouter, emptyOk, idParam, type FlowRouter, type RouteDeps } from './deps.js';

/** Koa's Content-Type for a JSON body. */
const JSON_UTF8 = 'application/json; charset=utf-8';

function pagingParams(ctx: FlowContext): { limit: number; since: number } {
  const q = queryFields(ctx);
  return { limit: q.int('limit', { min: 1, max: 200 }) ?? 100, since: q.int('since', { min: 0 }) ?? 0 };
}

/**
 * Gotify's buildWithPaging: the store is asked for limit+1 rows; when the extra row exists,
 * `next` is the absolute URL of the following page and `since` the last id shown.
 */
function paged(ctx: FlowContext, limit: number, rows: MessageRecord[]): PagedMessages {
  const page = rows.slice(0, limit);
  let since = 0;
  let next: string | undefined;
  if (rows.length > limit && page.length > 0) {
    since = page[page.length - 1]!.id;
    next = `${requestOrigin(ctx)}${ctx.path}?limit=${limit}&since=${since}`;
  }
  return {
    paging: { ...(next !== undefined ? { next } : {}), size: page.length, since, limit },
    messages: page.map(toExternalMessage),
  };
}

/**
 * POST /message. Gotify 3: an application token, or a client token / Basic naming one of the
 * user's applications by `appid`.
 */
function createMessage(deps: RouteDeps): FlowMiddleware {
  const { messages, applications } = deps;
  const limit = deps.config['limits.bodybytes'];
  return async (ctx) => {
    const f = await readFields(ctx, limit);
    const input = {
      message: f.string('message', { required: true })!,
      title: f.string('title'),
      priority: f.int('priority'),
      extras: f.object('extras'),
    };
    const who = authOf(ctx);
    // Resolved once: by the auth middleware from the token, else here from `appid`.
    let app = who.application;
    if (!app) {
      const appid = f.int('appid') ?? 0;
      if (appid === 0) throw badRequest('appid is required when not authenticating with an application token');
      app = applications.get(appid);
      if (!app || app.userId !== who.userId) throw badRequest('appid not found');
    }
    const created = JSON.stringify(toExternalMessage(await messages.create(app, input)));
    // The JSON text and the type Koa would give an object body, set directly: Koa resolves an
    // object's type through mime-types on every response, a measurable step on the hot path.
    ctx.res.setHeader('Content-Type', JSON_UTF8);
    ctx.body = created;
  };
}

/** POST /message ahead of the routers (http/exact-route.ts): the hot path. */
export function postMessageRoute(deps: RouteDeps): FlowMiddleware {
  return exactRoute('POST', '/message', deps.auth.requireApplicationOrClient, createMessage(deps));
}

/** /message (POST with an application token; the rest with client auth) and /application/:id/message. */
export function messageRoutes(deps: RouteDeps): FlowRouter {
  const { auth, messages } = deps;
  const router = createRouter();

  router.post('/message', auth.requireApplicationOrClient, createMessage(deps));

  router.get('/message', auth.requireClient, async (ctx) => {
    const { limit: n, since } = pagingParams(ctx);
    ctx.body = paged(ctx, n, await messages.listByUser(authOf(ctx).userId, n + 1, since));
  });

  router.delete('/message', auth.requireClient, async (ctx) => {
    await messages.deleteAll(authOf(ctx).userId);
    emptyOk(ctx);
  });

  router.delete('/message/:id', auth.requireClient, async (ctx) => {
    await messages.delete(authOf(ctx).userId, idParam(ctx));
    emptyOk(ctx);
  });

  router.get('/application/:id/message', auth.requireClient, async (ctx) => {
    const id = idParam(ctx);
    const { limit: n, since } = pagingParams(ctx);
    ctx.body = paged(ctx, n, await messages.listByApplication(authOf(ctx).userId, id, n + 1, since));
  });

  router.delete('/application/:id/message', auth.requireClient, async (ctx) => {
    await messages.deleteByApplication(authOf(ctx).userId, idParam(ctx));
    emptyOk(ctx);
  });

  return router;
}
