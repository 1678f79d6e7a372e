import { createRouter, type FlowRouter, type RouteDeps } from './deps.js';

/**
 * GET /plugin/admin/folder (admins): where plugins come from, for the web UI's empty Plugins page
 * → {"pluginsdir": "/abs/path", "bundled": "/abs/path" | null}.
 */
export function pluginFolderRoutes(deps: RouteDeps & { folders: { pluginsdir: string; bundled: string | null } }): FlowRouter {
  const router = createRouter();
  router.get('/plugin/admin/folder', deps.auth.requireAdmin, (ctx) => {
    ctx.body = deps.folders;
  });
  return router;
}
