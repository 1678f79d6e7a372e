import { ApiError, request, setSignedIn, setUnauthorizedHandler } from '../common/api';
import { notify } from '../common/notify';
import { Store } from '../common/store';
import type { User } from '../common/types';

// The token the UI kept in local storage before sessions (Gotify 2.9's web UI key): removed on sight.
const LEGACY_TOKEN_KEY = 'gotify-login-key';
/** The session's client id: not a secret (the token lives in an HttpOnly cookie), a hint that a session may exist. */
const CLIENT_ID_KEY = 'flow-client-id';
/** The client the server creates at login; users see it, and can revoke it, on the Clients page. */
export const CLIENT_NAME = 'Flow Web UI';

export type Session =
  | { state: 'checking' }
  | { state: 'loggedOut' }
  | { state: 'unreachable'; error: string }
  | { state: 'loggedIn'; user: User; clientId: number };

export const session = new Store<Session>({ state: 'checking' });

function forget(): void {
  localStorage.removeItem(CLIENT_ID_KEY);
  setSignedIn(false);
}

setUnauthorizedHandler(() => {
  forget();
  // Without a word the user would wonder why the login page is back.
  if (session.get().state !== 'loggedOut') notify.error('You were logged out: the server no longer accepts this browser\'s session (it was deleted, expired or the user removed). Log in again.');
  session.set({ state: 'loggedOut' });
});

/** Checks the session cookie of an earlier visit. Safe to call again (the Retry button does). */
export async function restoreSession(): Promise<void> {
  localStorage.removeItem(LEGACY_TOKEN_KEY);
  // Back from an OIDC sign-in: the server set the session cookie and names its client in the fragment.
  const oidc = /^#\/login\/oidc\/(\d+)$/.exec(location.hash);
  if (oidc) {
    localStorage.setItem(CLIENT_ID_KEY, oidc[1]!);
    location.replace('#/');
  }
  const clientId = Number(localStorage.getItem(CLIENT_ID_KEY));
  if (!clientId) {
    session.set({ state: 'loggedOut' });
    return;
  }
  setSignedIn(true);
  session.set({ state: 'checking' });
  try {
    const user = await request<User>('GET', 'current/user');
    session.set({ state: 'loggedIn', user, clientId });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return; // the unauthorized handler logged out
    session.set({ state: 'unreachable', error: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * Logs in: the server checks the password, creates this browser's client and sets it as an
 * HttpOnly, SameSite=Strict session cookie; neither the password nor the token is kept by script.
 */
export async function login(username: string, password: string): Promise<void> {
  const me = await request<User & { clientId: number }>('POST', 'auth/local/login', {
    json: { name: username, password, clientName: CLIENT_NAME },
  });
  localStorage.setItem(CLIENT_ID_KEY, String(me.clientId));
  setSignedIn(true);
  const user = await request<User>('GET', 'current/user');
  session.set({ state: 'loggedIn', user, clientId: me.clientId });
}

/** What the login page offers: GET /auth/info. */
export interface AuthInfo {
  localLogin: boolean;
  oidc: boolean;
  registration: boolean;
}

export function loadAuthInfo(): Promise<AuthInfo> {
  return request<AuthInfo>('GET', 'auth/info');
}

/**
 * Where the "Sign in with OIDC" button leads: the server redirects to the provider and back
 * (GET /auth/oidc/login, Gotify 3's route; `name` names the session's client).
 */
export const OIDC_LOGIN_PATH = `auth/oidc/login?name=${encodeURIComponent(CLIENT_NAME)}`;

/** Ends the session on the server (its client is deleted, its stream closes, the cookie is cleared). */
export async function logout(): Promise<void> {
  try {
    await request('POST', 'auth/logout');
  } catch {
    // Logging out must always work locally, even when the server is down or the session is already gone.
  }
  forget();
  session.set({ state: 'loggedOut' });
}

/** Refreshes the user after an admin edits themself (name or admin flag). */
export async function reloadCurrentUser(): Promise<void> {
  const current = session.get();
  if (current.state !== 'loggedIn') return;
  const user = await request<User>('GET', 'current/user');
  session.set({ ...current, user });
}
