import { readFields } from '../http/body.js';
import type { PluginPermissionService } from '../services/plugin-permission.js';
import { createRouter, type FlowRouter, type RouteDeps } from './deps.js';

/**
 * Admin-only plugin permissions:
 * - GET /plugin/permission → [{"modulePath","name","permission"}], permission "everyone" | "admins" | "nobody"
 * - PUT /plugin/permission {"modulePath","permission"} → the updated item; 400 bad value, 404 unknown module
 */
export function pluginPermissionRoutes(deps: RouteDeps & { permissions: PluginPermissionService }): FlowRouter {
  const { auth, permissions } = deps;
  const router = createRouter();
  router.get('/plugin/permission', auth.requireAdmin, (ctx) => {
    ctx.body = permissions.list();
  });
  router.put('/plugin/permission', auth.requireAdmin, async (ctx) => {
    const f = await readFields(ctx, deps.config['limits.bodybytes']);
    ctx.body = await permissions.set(f.string('modulePath'), f.string('permission'));
  });
  return router;
}
