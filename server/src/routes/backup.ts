import { backupStream } from '../backup/write.js';
import type { Store } from '../store/store.js';
import { FLOW_VERSION } from '../version.js';
import { createRouter, type FlowRouter, type RouteDeps } from './deps.js';

/**
 * GET /admin/backup (admins): a consistent archive of the running server's data, streamed
 * (backup/format.ts). `flow backup <file>` calls it; so can curl.
 */
export function backupRoutes(deps: RouteDeps & { store: Store }): FlowRouter {
  const router = createRouter();
  router.get('/admin/backup', deps.auth.requireAdmin, (ctx) => {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    ctx.type = 'application/octet-stream';
    ctx.set('Content-Disposition', `attachment; filename="flow-backup-${stamp}.flowbak"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = backupStream({ level: deps.store.db.level, imagesDir: deps.imagesDir, flowVersion: FLOW_VERSION });
  });
  return router;
}
