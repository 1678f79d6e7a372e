import { readFields } from '../http/body.js';
import { authOf } from '../http/state.js';
import { toExternalClient } from '../model/client.js';
import { createRouter, emptyOk, idParam, type FlowRouter, type RouteDeps } from './deps.js';

/** /client (client auth). */
export function clientRoutes(deps: RouteDeps): FlowRouter {
  const { auth, clients } = deps;
  const limit = deps.config['limits.bodybytes'];
  const router = createRouter();

  router.get('/client', auth.requireClient, (ctx) => {
    ctx.body = clients.list(authOf(ctx).userId).map(toExternalClient);
  });

  router.post('/client', auth.requireClient, async (ctx) => {
    const f = await readFields(ctx, limit);
    const name = f.string('name', { required: true })!;
    ctx.body = toExternalClient(await clients.create(authOf(ctx).userId, name));
  });

  router.put('/client/:id', auth.requireClient, async (ctx) => {
    const id = idParam(ctx);
    const userId = authOf(ctx).userId;
    clients.requireOwned(userId, id);
    const f = await readFields(ctx, limit);
    const name = f.string('name', { required: true })!;
    ctx.body = toExternalClient(await clients.rename(userId, id, name));
  });

  router.delete('/client/:id', auth.requireClient, async (ctx) => {
    await clients.delete(authOf(ctx).userId, idParam(ctx));
    emptyOk(ctx);
  });

  return router;
}
