import { forbidden, unauthorized } from '../errors.js';
import { credentialsOf } from '../http/auth.js';
import { ELEVATION_SECONDS, SESSION_SECONDS, setSessionCookie } from '../http/session-cookie.js';
import { readFields } from '../http/body.js';
import { crossOriginError } from '../http/csrf.js';
import { authOf, type FlowContext } from '../http/state.js';
import type { ClientRecord } from '../model/client.js';
import type { UserRecord } from '../model/user.js';
import { LOCAL_LOGIN_DISABLED } from '../http/auth.js';
import { passwordLoginAllowed } from '../oidc/settings.js';
import { createRouter, emptyOk, type FlowRouter, type RouteDeps } from './deps.js';

/** Gotify 3's CurrentUserExternal. */
const currentUser = (u: UserRecord, c: ClientRecord) => ({
  id: u.id,
  name: u.name,
  admin: u.admin,
  clientId: c.id,
  ...(c.elevatedUntil ? { elevatedUntil: c.elevatedUntil } : {}),
});

/**
 * Cookie sessions (Gotify 3): a login creates a client that lives in an HttpOnly, SameSite=Strict
 * cookie, accepted wherever a client token is (http/auth.ts, with a cross-origin check for
 * unsafe methods), expires after 7 days without use and is deleted by logout.
 */
export function sessionRoutes(deps: RouteDeps): FlowRouter {
  const { auth, users, clients, config } = deps;
  const limit = config['limits.bodybytes'];
  const secure = config['server.securecookie'];
  const passwordLogin = passwordLoginAllowed(config);
  const router = createRouter();

  /**
   * POST /auth/local/login: Basic credentials (Gotify 3; the form field `name` names the client),
   * or `name` + `password` as a form or JSON body (Flow's web UI; `clientName` names the client).
   */
  router.post('/auth/local/login', async (ctx) => {
    const csrf = crossOriginError(ctx.req);
    if (csrf) throw forbidden(csrf);
    if (!passwordLogin) throw forbidden(LOCAL_LOGIN_DISABLED);
    const f = await readFields(ctx, limit);
    const basic = credentialsOf(ctx.req).basic;
    const password = f.string('password');
    let name: string;
    let pass: string;
    let clientName: string | undefined;
    if (password !== undefined) {
      name = f.string('name') ?? f.string('username') ?? '';
      pass = password;
      clientName = f.string('clientName');
    } else if (basic) {
      ({ name, pass } = basic);
      clientName = f.string('name');
    } else {
      throw unauthorized('basic auth required');
    }
    const user = name === '' ? undefined : await users.verifyPassword(name, pass);
    if (!user) throw unauthorized('invalid credentials');
    const ua = ctx.get('user-agent');
    const { record, token } = await clients.create(user.id, clientName?.trim() || `web session${ua ? ` (${ua.slice(0, 60)})` : ''}`, {
      expiresAfterInactivitySeconds: SESSION_SECONDS,
      elevatedUntil: new Date(Date.now() + ELEVATION_SECONDS * 1000).toISOString(),
    });
    setSessionCookie(ctx, token, SESSION_SECONDS, secure);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = currentUser(user, record);
  });

  /** POST /auth/logout: deletes the session's client (its streams close) and clears the cookie. */
  router.post('/auth/logout', async (ctx, next) => {
    setSessionCookie(ctx, '', 0, secure);
    await next();
  }, auth.requireClient, async (ctx) => {
    const who = authOf(ctx);
    if (!who.client) throw forbidden('no client auth provided');
    await clients.delete(who.userId, who.client.id);
    emptyOk(ctx);
  });

  /** GET /auth/info: what the login page offers (Flow's web UI shows the OIDC button and the password form by it). */
  router.get('/auth/info', (ctx) => {
    ctx.body = { localLogin: passwordLogin, oidc: config['oidc.enabled'], registration: config.registration };
  });

  /** GET /gotifyinfo (Gotify 3): version, whether anonymous registration and OIDC are on. */
  router.get('/gotifyinfo', (ctx) => {
    ctx.body = { version: deps.version.version, register: config.registration, oidc: config['oidc.enabled'] };
  });

  return router;
}
