import { ApiError, request, setClientToken, setUnauthorizedHandler } from '../common/api';
import { notify } from '../common/notify';
import { Store } from '../common/store';
import type { Client, User } from '../common/types';

// Same key as Gotify's web UI, so switching a browser between the two keeps the login.
const TOKEN_KEY = 'gotify-login-key';
const CLIENT_ID_KEY = 'flow-client-id';
/** The client the UI creates at login; users see it, and can revoke it, on the Clients page. */
export const CLIENT_NAME = 'Flow Web UI';

export type Session =
  | { state: 'checking' }
  | { state: 'loggedOut' }
  | { state: 'unreachable'; error: string }
  | { state: 'loggedIn'; user: User; token: string };

export const session = new Store<Session>({ state: 'checking' });

function forget(): void {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(CLIENT_ID_KEY);
  setClientToken(null);
}

setUnauthorizedHandler(() => {
  forget();
  // Without a word the user would wonder why the login page is back.
  if (session.get().state !== 'loggedOut') notify.error('You were logged out: the server no longer accepts this browser\'s login (its client was deleted or the user removed). Log in again.');
  session.set({ state: 'loggedOut' });
});

/** Checks the token kept from an earlier visit. Safe to call again (the Retry button does). */
export async function restoreSession(): Promise<void> {
  const token = localStorage.getItem(TOKEN_KEY);
  if (!token) {
    session.set({ state: 'loggedOut' });
    return;
  }
  setClientToken(token);
  session.set({ state: 'checking' });
  try {
    const user = await request<User>('GET', 'current/user');
    session.set({ state: 'loggedIn', user, token });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return; // the unauthorized handler logged out
    session.set({ state: 'unreachable', error: err instanceof Error ? err.message : String(err) });
  }
}

/** Creates a client token with the user's credentials; the password itself is never stored. */
export async function login(username: string, password: string): Promise<void> {
  const client = await request<Client>('POST', 'client', {
    json: { name: CLIENT_NAME },
    basic: { username, password },
  });
  localStorage.setItem(TOKEN_KEY, client.token);
  localStorage.setItem(CLIENT_ID_KEY, String(client.id));
  setClientToken(client.token);
  const user = await request<User>('GET', 'current/user');
  session.set({ state: 'loggedIn', user, token: client.token });
}

/** Deletes this browser's client (which also closes its stream), then forgets the token. */
export async function logout(): Promise<void> {
  const current = session.get();
  try {
    let id = Number(localStorage.getItem(CLIENT_ID_KEY));
    if (!id && current.state === 'loggedIn') {
      const clients = await request<Client[]>('GET', 'client');
      id = clients.find((c) => c.token === current.token)?.id ?? 0;
    }
    if (id) await request('DELETE', `client/${id}`);
  } catch {
    // Logging out must always work locally, even when the server is down or the client is already gone.
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
