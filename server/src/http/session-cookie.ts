import type { FlowContext } from './state.js';

/** The session cookie (Gotify 3's name): a client token set by POST /auth/local/login, HttpOnly. */
export const SESSION_COOKIE = 'gotify-client-token';
/** Lifetime of a session without use, and of its cookie (Gotify 3: 7 days). */
export const SESSION_SECONDS = 7 * 24 * 60 * 60;
/** A fresh login (password or OIDC) is elevated this long (Gotify 3's DefaultElevationDuration). */
export const ELEVATION_SECONDS = 60 * 60;

/** Sets (or, with maxAge 0, clears) the session cookie: HttpOnly, SameSite=Strict, Secure when configured. */
export function setSessionCookie(ctx: Pick<FlowContext, 'append'>, token: string, maxAge: number, secure: boolean): void {
  const parts = [`${SESSION_COOKIE}=${encodeURIComponent(token)}`, 'Path=/', `Max-Age=${maxAge}`, 'HttpOnly', 'SameSite=Strict'];
  if (secure) parts.push('Secure');
  ctx.append('Set-Cookie', parts.join('; '));
}
