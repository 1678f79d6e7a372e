import { STATUS_CODES } from 'node:http';
import { FlowError, badRequest } from '../errors.js';
import { readFields } from '../http/body.js';
import { callerLocation } from '../http/location.js';
import { SESSION_SECONDS, setSessionCookie } from '../http/session-cookie.js';
import type { FlowContext } from '../http/state.js';
import { toExternalUser } from '../model/user.js';
import { PENDING_COOKIE_PREFIX, PENDING_LOGIN_MS, pendingCookieName, type OidcLogin } from '../oidc/login.js';
import { createRouter, type FlowRouter, type RouteDeps } from './deps.js';

/**
 * Gotify 3's OIDC routes (registered only with oidc.enabled, as Gotify):
 * - GET /auth/oidc/login?name=…: redirect to the provider (browser);
 * - GET /auth/oidc/callback: the provider's redirect back; sets the session cookie, 307 to the UI;
 * - GET /auth/oidc/elevate?id=…&durationSeconds=…: re-authenticate at the provider to elevate a client;
 * - POST /auth/oidc/external/authorize, POST /auth/oidc/external/token: the native app's flow (PKCE by the app).
 * The browser routes answer failures with a small HTML page (the user is looking at a browser tab,
 * not at an API client); the app routes with Gotify's JSON error body.
 */
export function oidcRoutes(deps: RouteDeps & { oidc: OidcLogin }): FlowRouter {
  const { oidc, config } = deps;
  const secure = config['server.securecookie'];
  const limit = config['limits.bodybytes'];
  const router = createRouter();

  const baseUrl = (ctx: FlowContext) => {
    const { scheme, host, prefix } = callerLocation(ctx);
    return `${scheme}://${host}${prefix}`;
  };

  /** Redirects the browser to the provider, the login's sealed state in a cookie the callback reads (SameSite=Lax: the provider's redirect back is a cross-site navigation). */
  const startBrowserFlow = async (ctx: FlowContext, purpose: Parameters<OidcLogin['begin']>[1]) => {
    const { url, cookieName, cookieValue } = await oidc.begin(oidc.redirectUri(baseUrl(ctx)), purpose);
    // Each login in progress has its cookie (10 minutes). Someone clicking again and again would pile
    // them up until the Cookie header is too large: past a few, the older ones are dropped.
    const pending = pendingCookieNames(ctx.get('cookie'));
    if (pending.length >= MAX_PENDING_LOGINS) for (const name of pending) ctx.append('Set-Cookie', pendingCookie(name, '', 0, secure));
    ctx.append('Set-Cookie', pendingCookie(cookieName, cookieValue, PENDING_LOGIN_MS / 1000, secure));
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url);
  };

  router.get('/auth/oidc/login', browserErrors, async (ctx) => {
    // Gotify's web UI names the client; a bare link gets a name saying where the session came from.
    const raw = ctx.query.name;
    const name = (Array.isArray(raw) ? raw[0] : raw)?.trim() || 'OIDC session';
    if (name.length > 256) throw badRequest('invalid client name');
    await startBrowserFlow(ctx, { clientName: name });
  });

  router.get('/auth/oidc/elevate', browserErrors, async (ctx) => {
    const id = Number(new URLSearchParams(ctx.querystring).get('id') ?? NaN);
    const seconds = Number(new URLSearchParams(ctx.querystring).get('durationSeconds') ?? NaN);
    if (!Number.isSafeInteger(id) || id < 1) throw badRequest("Field 'id' is required (the client to elevate)");
    if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 366 * 86_400) throw badRequest("Field 'durationSeconds' must be between 1 and 31622400");
    await startBrowserFlow(ctx, { elevate: { clientId: id, seconds } });
  });

  router.get('/auth/oidc/callback', browserErrors, async (ctx) => {
    // This URL carries the authorization code: pages it leads to never pass it on as a Referer.
    ctx.set('Referrer-Policy', 'no-referrer');
    const query = new URLSearchParams(ctx.querystring);
    const state = query.get('state') ?? '';
    // The state names its cookie; only a state of the shape Flow issues may (it lands in a header).
    const cookieName = /^[A-Za-z0-9_-]{16,512}$/.test(state) ? pendingCookieName(state) : undefined;
    // Single use: the pending login's cookie is cleared whatever the outcome.
    if (cookieName) ctx.append('Set-Cookie', pendingCookie(cookieName, '', 0, secure));
    const result = await oidc.finish(query, cookieName ? ctx.cookies.get(cookieName) : undefined);
    ctx.set('Cache-Control', 'no-store');
    if (result.elevated) {
      // As Gotify: the UI opened this in a popup and rechecks the session when it closes.
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = page('Session elevated', 'Your session is elevated. Close this tab to continue.', '<script>window.close()</script>');
      return;
    }
    setSessionCookie(ctx, result.session!.token, SESSION_SECONDS, secure);
    // Relative, as Gotify: a reverse proxy may have stripped a path prefix this server never saw.
    // The fragment tells Flow's web UI which client is this browser's session.
    ctx.status = 307;
    ctx.set('Location', `../../#/login/oidc/${result.session!.record.id}`);
  });

  router.post('/auth/oidc/external/authorize', async (ctx) => {
    const f = await readFields(ctx, limit);
    const codeChallenge = f.string('code_challenge', { required: true })!;
    const redirectUri = f.string('redirect_uri', { required: true })!;
    const name = f.string('name', { required: true })!;
    // RFC 7636: an S256 challenge is 43 base64url characters; a plain verifier would be refused by the provider anyway.
    if (!/^[A-Za-z0-9_-]{43,128}$/.test(codeChallenge)) throw badRequest("Field 'code_challenge' must be an S256 PKCE challenge (43 base64url characters)");
    try {
      new URL(redirectUri);
    } catch {
      throw badRequest("Field 'redirect_uri' must be a URI (e.g. gotify://oidc/callback)");
    }
    if (name.length > 256) throw badRequest("Field 'name' is longer than 256 characters");
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await oidc.authorizeApp({ codeChallenge, redirectUri, clientName: name });
  });

  router.post('/auth/oidc/external/token', async (ctx) => {
    const f = await readFields(ctx, limit);
    const code = f.string('code', { required: true })!;
    const state = f.string('state', { required: true })!;
    const codeVerifier = f.string('code_verifier', { required: true })!;
    const { user, token } = await oidc.redeemApp({ code, state, codeVerifier });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { token, user: toExternalUser(user) };
  });

  return router;
}

/** Logins in progress one browser may have at once before the older ones are dropped. */
const MAX_PENDING_LOGINS = 4;

function pendingCookieNames(header: string): string[] {
  return header
    .split(';')
    .map((part) => part.split('=')[0]!.trim())
    .filter((name) => name.startsWith(PENDING_COOKIE_PREFIX));
}

function pendingCookie(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  const parts = [`${name}=${value}`, 'Path=/', `Max-Age=${Math.floor(maxAgeSeconds)}`, 'HttpOnly', 'SameSite=Lax'];
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

/** Browser routes: a FlowError becomes a small HTML page with its status (Gotify answers plain text). */
async function browserErrors(ctx: FlowContext, next: () => Promise<unknown>): Promise<void> {
  try {
    await next();
  } catch (err) {
    if (!(err instanceof FlowError) || !err.expose) throw err;
    ctx.status = err.status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = page(
      `Sign-in failed (${err.status} ${STATUS_CODES[err.status] ?? ''})`.trim(),
      err.message,
      '<p><a id="back-to-login" href="../../#/login">Back to the login page</a></p>',
    );
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, message: string, extra: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · Flow</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5;overflow-wrap:anywhere}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p id="message">${escapeHtml(message)}</p>
${extra}
</body>
</html>
`;
}
