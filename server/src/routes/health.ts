import { createRouter, type FlowRouter } from './deps.js';

export interface HealthDeps {
  ping: () => Promise<void>;
  version: { version: string; commit: string; buildDate: string };
}

/** GET|HEAD /health (no auth; 500 orange/red when the database does not answer) and GET /version. */
export function healthRoutes(deps: HealthDeps): FlowRouter {
  const router = createRouter();
  router.get('/health', async (ctx) => {
    try {
      await deps.ping();
      ctx.body = { health: 'green', database: 'green' };
    } catch {
      ctx.status = 500;
      ctx.body = { health: 'orange', database: 'red' };
    }
  });
  router.get('/version', (ctx) => {
    ctx.body = deps.version;
  });
  return router;
}
