import { badRequest } from '../errors.js';
import { readFields } from '../http/body.js';
import { authOf } from '../http/state.js';
import { toExternalClient } from '../model/client.js';
import { createRouter, emptyOk, idParam, type FlowRouter, type RouteDeps } from './deps.js';
import { ownedIdParam, regenerateTokenRoute } from './owned.js';

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
    const { record, token } = await clients.create(authOf(ctx).userId, name);
    ctx.body = { ...toExternalClient(record), token };
  });

  // Flow's client equivalent of Gotify 3's PUT /application/:id/security (same body and answer).
  router.put('/client/:id/security', auth.requireElevatedClient, regenerateTokenRoute(clients, limit));

  // Gotify 3: elevate a client (durationSeconds required) → 204. Requires Basic or an elevated client.
  router.post('/client/:id/elevate', auth.requireElevatedClient, async (ctx) => {
    const { id, userId } = ownedIdParam(ctx, clients);
    const f = await readFields(ctx, limit);
    const seconds = f.int('durationSeconds', { min: 1, max: 366 * 86_400 });
    if (seconds === undefined) throw badRequest("Field 'durationSeconds' is required");
    await clients.elevate(userId, id, seconds);
    ctx.status = 204;
  });

  router.put('/client/:id', auth.requireClient, async (ctx) => {
    const { id, userId } = ownedIdParam(ctx, clients);
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
