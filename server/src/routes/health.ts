import { createRouter, type FlowRouter } from './deps.js';

export interface HealthDeps {
  ping: () => Promise<void>;
  /** This replica (cluster/cluster.ts): id, name and whether it runs the singleton jobs now. */
  replica: () => { id: string; name: string; role: 'leader' | 'follower' };
  version: { version: string; commit: string; buildDate: string };
}

/**
 * GET|HEAD /health (no auth; 500 orange/red when the database does not answer) and GET /version.
 * Gotify's body plus Flow's `replica` (additive: Gotify clients read only the two fields), so a
 * load balancer or an operator sees which replica answered and whether it is the leader.
 */
export function healthRoutes(deps: HealthDeps): FlowRouter {
  const router = createRouter();
  router.get('/health', async (ctx) => {
    try {
      await deps.ping();
      ctx.body = { health: 'green', database: 'green', replica: deps.replica() };
    } catch {
      ctx.status = 500;
      ctx.body = { health: 'orange', database: 'red', replica: deps.replica() };
    }
  });
  router.get('/version', (ctx) => {
    ctx.body = deps.version;
  });
  return router;
}
