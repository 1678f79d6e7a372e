import { badRequest } from '../errors.js';
import { createRouter, type FlowRouter, type RouteDeps } from './deps.js';

/**
 * GET /stream without an Upgrade header (real upgrades are taken by the StreamHub before Koa):
 * authenticated like any client route, then 400 as Gotify's upgrader answers.
 */
export function streamRoutes(deps: RouteDeps): FlowRouter {
  const router = createRouter();
  router.get('/stream', deps.auth.requireClient, () => {
    throw badRequest('websocket: the client is not using the websocket protocol: upgrade token not found in Connection header');
  });
  return router;
}
