import { backupStream } from '../backup/write.js';
import type { Level } from 'level';
import { FlowError } from '../errors.js';
import { FLOW_VERSION } from '../version.js';
import { createRouter, type FlowRouter, type RouteDeps } from './deps.js';

/**
 * GET /admin/backup (admins): a consistent archive of the running server's data, streamed
 * (backup/format.ts). `flow backup <file>` calls it; so can curl. The archive is a LevelDB
 * snapshot: with `database.dialect: postgres` (`level` undefined) the database is backed up with
 * PostgreSQL's own tools (pg_dump) and this answers 400 saying so.
 */
export function backupRoutes(deps: RouteDeps & { level: (() => Level<string, string>) | undefined }): FlowRouter {
  const router = createRouter();
  router.get('/admin/backup', deps.auth.requireAdmin, (ctx) => {
    if (deps.level === undefined) {
      throw new FlowError('FLOW_ERR_BAD_REQUEST', 'this server keeps its data in PostgreSQL (database.dialect: postgres): back it up with pg_dump, and the images folder with any file copy');
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    ctx.type = 'application/octet-stream';
    ctx.set('Content-Disposition', `attachment; filename="flow-backup-${stamp}.flowbak"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = backupStream({ level: deps.level(), imagesDir: deps.imagesDir, flowVersion: FLOW_VERSION });
  });
  return router;
}
