import { badRequest, forbidden, unauthorized } from '../errors.js';
import { readFields } from '../http/body.js';
import { authOf } from '../http/state.js';
import { toExternalUser } from '../model/user.js';
import { DefaultPasswordCheck } from '../services/default-password.js';
import { createRouter, emptyOk, idParam, type FlowRouter, type RouteDeps } from './deps.js';

/** /current/user, /current/user/password and /user[/:id] with Gotify's auth rules. */
export function userRoutes(deps: RouteDeps): FlowRouter {
  const { auth, users, config } = deps;
  const limit = config['limits.bodybytes'];
  const router = createRouter();
  const defaultPassword = new DefaultPasswordCheck(users, config['defaultuser.name'], config['defaultuser.pass']);

  // Admins also learn whether the default admin still has its initial password (web UI banner).
  router.get('/current/user', auth.requireClient, async (ctx) => {
    const user = users.require(authOf(ctx).userId);
    // Only while it is true: otherwise the shape stays exactly Gotify's user object.
    const warn = user.admin && (await defaultPassword.unchanged());
    ctx.body = warn ? { ...toExternalUser(user), defaultAdminPassword: true } : toExternalUser(user);
  });

  router.post('/current/user/password', auth.requireClient, async (ctx) => {
    const f = await readFields(ctx, limit);
    const pass = f.string('pass', { required: true })!;
    await users.changePassword(authOf(ctx).userId, pass);
    emptyOk(ctx);
  });

  router.get('/user', auth.requireAdmin, (ctx) => {
    ctx.body = users.list().map(toExternalUser);
  });

  // Anyone may call it; only admins create users unless registration is on (non-admins only).
  router.post('/user', auth.optionalClient, async (ctx) => {
    const caller = ctx.state.auth ? users.get(ctx.state.auth.userId) : undefined;
    // Refused before the body is read: anonymous callers must not make the server hold their bodies.
    if (!caller?.admin && !config.registration) throw (caller ? forbidden : unauthorized)('you are not allowed to access this api');
    const f = await readFields(ctx, limit);
    const name = f.string('name') ?? '';
    const pass = f.string('pass') ?? '';
    // Gin's validator reports every failed field at once, joined with "; ".
    const missing = Object.entries({ name, pass }).filter(([, v]) => v === '').map(([k]) => `Field '${k}' is required`);
    if (missing.length > 0) throw badRequest(missing.join('; '));
    const admin = f.bool('admin') ?? false;
    if (!caller?.admin && admin) throw (caller ? forbidden : unauthorized)('you are not allowed to create an admin user');
    ctx.body = toExternalUser(await users.create({ name, pass, admin }));
  });

  router.get('/user/:id', auth.requireAdmin, (ctx) => {
    ctx.body = toExternalUser(users.require(idParam(ctx)));
  });

  router.post('/user/:id', auth.requireAdmin, async (ctx) => {
    const id = idParam(ctx);
    const f = await readFields(ctx, limit);
    const name = f.string('name', { required: true })!;
    const admin = f.bool('admin') ?? false;
    const pass = f.string('pass');
    ctx.body = toExternalUser(await users.update(id, { name, admin, pass }));
  });

  router.delete('/user/:id', auth.requireAdmin, async (ctx) => {
    await users.delete(idParam(ctx));
    emptyOk(ctx);
  });

  return router;
}
