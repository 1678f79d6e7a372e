import { badRequest } from '../errors.js';
import { readFields, readMultipart } from '../http/body.js';
import { authOf } from '../http/state.js';
import { parseRetention } from '../services/retention-input.js';
import { createRouter, emptyOk, idParam, type FlowRouter, type RouteDeps } from './deps.js';
import { ownedIdParam, regenerateTokenRoute } from './owned.js';
import type { Fields } from '../http/body.js';

const appInput = (f: Fields) => ({
  name: f.string('name', { required: true })!,
  description: f.string('description') ?? '',
  defaultPriority: f.int('defaultPriority') ?? 0,
  sortKey: f.string('sortKey') ?? '',
});

/** PUT also takes Flow's `retention` object (JSON bodies only; form bodies cannot carry it). */
const updateInput = (f: Fields) => {
  const retention = f.object('retention');
  return { ...appInput(f), ...(retention ? { retention: parseRetention(retention) } : {}) };
};

/** /application and its image (client auth). */
export function applicationRoutes(deps: RouteDeps): FlowRouter {
  const { auth, applications } = deps;
  const limit = deps.config['limits.bodybytes'];
  // Gotify sets no body limit; icons are often phone photos of several MB (limits.imagebytes, 10 MiB).
  const imageLimit = deps.config['limits.imagebytes'];
  const router = createRouter();

  router.get('/application', auth.requireClient, (ctx) => {
    ctx.body = applications.list(authOf(ctx).userId).map((a) => applications.external(a));
  });

  router.post('/application', auth.requireClient, async (ctx) => {
    const input = appInput(await readFields(ctx, limit));
    const { record, token } = await applications.create(authOf(ctx).userId, input);
    ctx.body = { ...applications.external(record), token };
  });

  // Gotify 3: token rotation; answers the new token once. Requires Basic or an elevated client.
  router.put('/application/:id/security', auth.requireElevatedClient, regenerateTokenRoute(applications, limit));

  router.put('/application/:id', auth.requireClient, async (ctx) => {
    const { id, userId } = ownedIdParam(ctx, applications);
    const input = updateInput(await readFields(ctx, limit));
    ctx.body = applications.external(await applications.update(userId, id, input));
  });

  router.delete('/application/:id', auth.requireClient, async (ctx) => {
    await applications.delete(authOf(ctx).userId, idParam(ctx));
    emptyOk(ctx);
  });

  router.post('/application/:id/image', auth.requireClient, async (ctx) => {
    const { id, userId } = ownedIdParam(ctx, applications);
    const form = await readMultipart(ctx, imageLimit, 'limits.imagebytes');
    const file = form.get('file');
    if (file === null || typeof file === 'string') throw badRequest("file with key 'file' must be present");
    const data = Buffer.from(await file.arrayBuffer());
    ctx.body = applications.external(await applications.setImage(userId, id, { filename: file.name, data }));
  });

  router.delete('/application/:id/image', auth.requireClient, async (ctx) => {
    ctx.body = applications.external(await applications.removeImage(authOf(ctx).userId, idParam(ctx)));
  });

  return router;
}
