import type { IncomingMessage } from 'node:http';
import { FlowError, forbidden, unauthorized } from '../errors.js';
import type { UserService } from '../services/user.js';
import type { ClientService } from '../services/client.js';
import type { ApplicationService } from '../services/application.js';
import type { AuthInfo, FlowMiddleware } from './state.js';
import { storedTokenOf } from './stored-token.js';
import { crossOriginError } from './csrf.js';
import { clientAddress } from './location.js';
import { SESSION_COOKIE, SESSION_SECONDS, setSessionCookie } from './session-cookie.js';
import type { FlowContext } from './state.js';

export interface AuthDeps {
  users: UserService;
  clients: ClientService;
  applications: ApplicationService;
  /** Mark the session cookie Secure (config server.securecookie). */
  secureCookie?: boolean;
  /** False when passwords are refused (OIDC on, oidc.locallogin false): Basic credentials then authenticate nobody. */
  passwordLogin?: boolean;
}

/** The answer to a password where passwords are refused (oidc.locallogin: false). */
export const LOCAL_LOGIN_DISABLED =
  'password login is disabled on this server (oidc.locallogin is false): sign in with OIDC, or use an application or client token';

export { SESSION_COOKIE };

/** What a request presents, before any lookup. */
export interface Credentials {
  /** From `?token=`, then `X-Gotify-Key`, then `Authorization: Bearer`, then the session cookie (Gotify 3's order). */
  token: string;
  basic?: { name: string; pass: string };
  /** The client's address (the peer's, or behind a trusted proxy its X-Forwarded-For), for login throttling. */
  source?: string;
  /** The token came from the session cookie: the request must pass the cross-origin check. */
  fromCookie?: boolean;
  /** Set when a cookie-authenticated request failed the cross-origin check. */
  crossOrigin?: string;
}

/** Extracts credentials from a raw request (also used for websocket upgrades). */
export function credentialsOf(req: Pick<IncomingMessage, 'headers' | 'url'> & { socket?: { remoteAddress?: string } }): Credentials {
  const raw = req.url ?? '/';
  // Most API calls carry no query: skip the URL parse (a few µs per request) when there is none.
  let token = raw.includes('?') ? (new URL(raw, 'http://x').searchParams.get('token') ?? '') : '';
  if (!token) token = headerValue(req.headers['x-gotify-key']);
  const authz = headerValue(req.headers.authorization);
  if (!token && authz.length >= 7 && authz.slice(0, 7).toLowerCase() === 'bearer ') token = authz.slice(7);
  let fromCookie = false;
  let crossOrigin: string | undefined;
  if (!token) {
    token = cookieValue(headerValue(req.headers.cookie), SESSION_COOKIE);
    fromCookie = token !== '';
    if (fromCookie) crossOrigin = crossOriginError(req);
  }
  let basic: Credentials['basic'];
  if (authz.length >= 6 && authz.slice(0, 6).toLowerCase() === 'basic ') {
    const decoded = Buffer.from(authz.slice(6).trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i >= 0) basic = { name: decoded.slice(0, i), pass: decoded.slice(i + 1) };
  }
  return { token, basic, source: clientAddress(req), ...(fromCookie ? { fromCookie, crossOrigin } : {}) };
}

function cookieValue(header: string, name: string): string {
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return '';
      }
    }
  }
  return '';
}

const headerValue = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));

export type AuthKind = 'client' | 'admin' | 'application';

const NOT_ELEVATED = 'session not elevated, use basic auth or call /client:elevate';

/**
 * Gotify's `requireToken`: a valid Basic user or a token is looked up for the wanted kind;
 * "known but not allowed" → 403 "you are not allowed to access this api", nothing valid → 401.
 * - client: Basic user or client token.
 * - admin: Basic or client token whose user is admin (non-admin → 403).
 * - application: application token only; a valid Basic user → 403, a client token → 401.
 */
export class Auth {
  constructor(private readonly deps: AuthDeps) {}

  /** Resolves credentials for `kind`; throws the 401/403 FlowError. Usable outside Koa (websockets). */
  async check(kind: AuthKind, creds: Credentials): Promise<AuthInfo> {
    if (creds.crossOrigin) throw forbidden(creds.crossOrigin);
    const user = creds.basic && this.passwordLogin ? await this.deps.users.verifyPassword(creds.basic.name, creds.basic.pass, creds.source) : undefined;
    // Gotify 3 enhanced tokens are looked up by their public form (http/stored-token.ts).
    const token = storedTokenOf(creds.token);
    if (user) {
      if (kind === 'application') throw forbidden();
      if (kind === 'admin' && !user.admin) throw forbidden();
      return { userId: user.id, user, token };
    }
    if (token) {
      if (kind === 'application') {
        const app = this.deps.applications.getByToken(token);
        if (app) return { userId: app.userId, token, application: app };
      } else {
        const client = this.liveClient(token);
        if (client) {
          if (kind === 'admin' && !this.deps.users.get(client.userId)?.admin) throw forbidden();
          await this.deps.clients.touch(client);
          return { userId: client.userId, token, client };
        }
      }
    }
    throw creds.basic && !this.passwordLogin ? unauthorized(LOCAL_LOGIN_DISABLED) : unauthorized();
  }

  private get passwordLogin(): boolean {
    return this.deps.passwordLogin ?? true;
  }

  /** A client by stored token, unless it is a session that expired (Gotify 3's expiresAt). */
  private liveClient(token: string) {
    const client = this.deps.clients.getByToken(token);
    return client && this.deps.clients.isLive(client) ? client : undefined;
  }

  /**
   * Gotify 3's RequireApplicationOrClient (POST /message): an application token, else a client
   * token, else a Basic user; nothing valid → 401.
   */
  async checkAny(creds: Credentials): Promise<AuthInfo> {
    if (creds.crossOrigin) throw forbidden(creds.crossOrigin);
    const byApp = this.applicationOf(creds.token);
    if (byApp) return byApp;
    const token = storedTokenOf(creds.token);
    if (token) {
      const client = this.liveClient(token);
      if (client) {
        await this.deps.clients.touch(client);
        return { userId: client.userId, token, client };
      }
    }
    const user = creds.basic && this.passwordLogin ? await this.deps.users.verifyPassword(creds.basic.name, creds.basic.pass) : undefined;
    if (user) return { userId: user.id, user, token: '' };
    throw creds.basic && !this.passwordLogin ? unauthorized(LOCAL_LOGIN_DISABLED) : unauthorized();
  }

  /**
   * Gotify 3's RequireElevatedClient: Basic, or a client whose elevation has not run out
   * (403 otherwise). Flow requires it only on Gotify 3's new endpoints (see server/README.md).
   */
  async checkElevated(creds: Credentials): Promise<AuthInfo> {
    const info = await this.check('client', creds);
    if (info.client && !this.deps.clients.isElevated(info.client)) throw forbidden(NOT_ELEVATED);
    return info;
  }

  /** Like Gotify's `Optional()`: a valid Basic user or client token, else anonymous. */
  async optional(creds: Credentials): Promise<AuthInfo | undefined> {
    try {
      return await this.check('client', creds);
    } catch (err) {
      if (err instanceof FlowError && err.status < 500) return undefined;
      throw err;
    }
  }

  private middleware(kind: AuthKind): FlowMiddleware {
    return async (ctx, next) => {
      const creds = credentialsOf(ctx.req);
      ctx.state.auth = await this.check(kind, creds);
      this.refreshSessionCookie(ctx, creds, ctx.state.auth);
      await next();
    };
  }

  /**
   * A session used again gets its cookie's 7 days renewed, as Gotify 3 does when it records the
   * use (at most every 5 minutes, with lastUsed), so an active browser stays signed in.
   */
  private refreshSessionCookie(ctx: FlowContext, creds: Credentials, info: AuthInfo): void {
    const c = info.client;
    if (!creds.fromCookie || !c || !(c.expiresAfterInactivitySeconds ?? 0)) return;
    if (c.lastUsed !== null && Date.parse(c.lastUsed) + 5 * 60_000 > Date.now()) return;
    setSessionCookie(ctx, creds.token, SESSION_SECONDS, this.deps.secureCookie ?? false);
  }

  /** Basic or client token. */
  readonly requireClient: FlowMiddleware = this.middleware('client');
  /** An admin, by Basic or client token. */
  readonly requireAdmin: FlowMiddleware = this.middleware('admin');
  /** An application token. */
  readonly requireApplication: FlowMiddleware = this.middleware('application');
  /** An application token, a client token or Basic (POST /message, as Gotify 3). */
  readonly requireApplicationOrClient: FlowMiddleware = (ctx, next) => {
    const creds = credentialsOf(ctx.req);
    // An application token, what nearly every sender uses, is a map lookup: no promise for it.
    const app = creds.crossOrigin ? undefined : this.applicationOf(creds.token);
    if (app) {
      ctx.state.auth = app;
      return next();
    }
    return this.checkAny(creds).then((auth) => {
      ctx.state.auth = auth;
      return next();
    });
  };

  /** checkAny's first step: the application whose token this is. */
  private applicationOf(sent: string): AuthInfo | undefined {
    const token = storedTokenOf(sent);
    const app = token ? this.deps.applications.getByToken(token) : undefined;
    return app && { userId: app.userId, token, application: app };
  }
  /** Basic or an elevated client token (Gotify 3's new endpoints). */
  readonly requireElevatedClient: FlowMiddleware = async (ctx, next) => {
    const creds = credentialsOf(ctx.req);
    ctx.state.auth = await this.checkElevated(creds);
    this.refreshSessionCookie(ctx, creds, ctx.state.auth);
    await next();
  };
  /** Sets ctx.state.auth when valid client credentials are present; never rejects. */
  readonly optionalClient: FlowMiddleware = async (ctx, next) => {
    ctx.state.auth = await this.optional(credentialsOf(ctx.req));
    await next();
  };
}
