import * as client from 'openid-client';
import { HttpError } from '../errors.js';
import type { Logger } from '../log.js';
import type { UserRecord } from '../model/user.js';
import type { ClientRecord } from '../model/client.js';
import type { ClientService } from '../services/client.js';
import type { UserService } from '../services/user.js';
import { OidcAccounts } from './accounts.js';
import { RelyingParty } from './relying-party.js';
import { Sealer } from './sealed.js';
import type { OidcSettings } from './settings.js';

/** How long a started login may take at the provider (Gotify 3: 10 minutes). */
export const PENDING_LOGIN_MS = 10 * 60 * 1000;

/** A browser login in progress, sealed into a cookie (oidc/sealed.ts). */
interface PendingBrowserLogin {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  /** The client (session) name to create; absent for an elevation. */
  clientName?: string;
  /** Set for Gotify 3's GET /auth/oidc/elevate: the client to elevate, for how long. */
  elevate?: { clientId: number; seconds: number };
}

/** A native app's login in progress: this sealed value is the `state` the app gets and sends back. */
interface PendingAppLogin {
  nonce: string;
  redirectUri: string;
  clientName: string;
}

export interface SessionOptions {
  expiresAfterInactivitySeconds: number;
  elevationSeconds: number;
}

export interface OidcLoginDeps {
  settings: OidcSettings;
  users: UserService;
  clients: ClientService;
  log: Logger;
  session: SessionOptions;
  /** Milliseconds since the epoch (tests move it to expire states and ID tokens). */
  clock?: () => number;
}

/**
 * The OIDC sign-in flows of Gotify 3 (api/oidc.go), with the pending login sealed instead of
 * kept in one process's memory:
 * - browser: `begin` (state, nonce, PKCE verifier → a sealed cookie and the provider's URL), then
 *   `finish` at the callback (cookie ↔ state, code exchange, user) → a session client;
 * - native app: `authorizeApp` (the app's PKCE challenge and redirect URI → the provider's URL and
 *   a sealed state), then `redeemApp` (code + verifier + state → a client token).
 * Every outcome that is not a user and a client is an exposed HttpError; no client is created then.
 */
export class OidcLogin {
  readonly rp: RelyingParty;
  private readonly accounts: OidcAccounts;
  private readonly browserSeal: Sealer;
  private readonly appSeal: Sealer;
  private readonly clock: () => number;

  constructor(private readonly deps: OidcLoginDeps) {
    this.clock = deps.clock ?? Date.now;
    this.rp = new RelyingParty(deps.settings, deps.log, this.clock);
    this.accounts = new OidcAccounts(deps.settings, deps.users, deps.log);
    // Two keys, so a browser cookie can never be replayed as an app's state or the reverse.
    this.browserSeal = new Sealer(deps.settings.clientSecret, 'oidc browser login');
    this.appSeal = new Sealer(deps.settings.clientSecret, 'oidc app login');
  }

  /** The redirect URI: oidc.redirecturl, else `<the caller's base URL>/auth/oidc/callback`. */
  redirectUri(callerBase: string): string {
    return this.deps.settings.redirectUrl || `${callerBase}/auth/oidc/callback`;
  }

  /** Starts a browser login (or elevation): the provider's URL, the cookie's name and sealed value. */
  async begin(redirectUri: string, purpose: { clientName: string } | { elevate: { clientId: number; seconds: number } }) {
    const verifier = client.randomPKCECodeVerifier();
    const pending: PendingBrowserLogin = { state: client.randomState(), nonce: client.randomNonce(), verifier, redirectUri, ...purpose };
    const url = await this.rp.authorizationUrl({
      redirectUri,
      state: pending.state,
      nonce: pending.nonce,
      codeChallenge: await client.calculatePKCECodeChallenge(verifier),
    });
    return { url, cookieName: pendingCookieName(pending.state), cookieValue: this.browserSeal.seal(pending, PENDING_LOGIN_MS, this.clock()) };
  }

  /**
   * Finishes a browser login at the callback. `sealed` is the cookie named by the state (or
   * undefined). Returns the user and either a new session client with its token or the elevated client.
   */
  async finish(
    query: URLSearchParams,
    sealed: string | undefined,
  ): Promise<{ user: UserRecord; session?: { record: ClientRecord; token: string }; elevated?: ClientRecord }> {
    const state = query.get('state') ?? '';
    const providerError = query.get('error');
    if (providerError !== null && state === '') {
      throw new HttpError(401, `the provider refused the sign-in: ${providerError}${query.get('error_description') ? ` (${query.get('error_description')})` : ''}`);
    }
    if (state === '') throw new HttpError(400, 'the callback has no state: start the sign-in again from the login page');
    const pending = sealed === undefined ? undefined : this.browserSeal.open<PendingBrowserLogin>(sealed, this.clock());
    if (!pending || pending.state !== state) {
      throw new HttpError(400, 'unknown or expired state: start the sign-in again from the login page (it must finish within 10 minutes, in the browser that started it)');
    }
    const claims = await this.rp.exchange({ redirectUri: pending.redirectUri, response: query, state, nonce: pending.nonce, codeVerifier: pending.verifier });
    const user = await this.accounts.resolve(claims);
    if (pending.elevate) {
      const { clientId, seconds } = pending.elevate;
      // 404 "client with id N doesn't exists" unless the client is the signed-in user's.
      this.deps.clients.requireOwned(user.id, clientId);
      return { user, elevated: await this.deps.clients.elevate(user.id, clientId, seconds) };
    }
    return { user, session: await this.createSession(user, pending.clientName ?? 'OIDC session') };
  }

  /** POST /auth/oidc/external/authorize: the provider's URL for the app's PKCE challenge, and the state to send back. */
  async authorizeApp(input: { codeChallenge: string; redirectUri: string; clientName: string }): Promise<{ authorize_url: string; state: string }> {
    const pending: PendingAppLogin = { nonce: client.randomNonce(), redirectUri: input.redirectUri, clientName: input.clientName };
    const state = this.appSeal.seal(pending, PENDING_LOGIN_MS, this.clock());
    const url = await this.rp.authorizationUrl({ redirectUri: input.redirectUri, state, nonce: pending.nonce, codeChallenge: input.codeChallenge });
    return { authorize_url: url, state };
  }

  /** POST /auth/oidc/external/token: redeems the app's code with its verifier; a client token and the user. */
  async redeemApp(input: { code: string; state: string; codeVerifier: string }): Promise<{ user: UserRecord; token: string }> {
    const pending = this.appSeal.open<PendingAppLogin>(input.state, this.clock());
    if (!pending) throw new HttpError(400, 'unknown or expired state');
    // The app hands over only code and state; the issuer is the configured one (a single provider).
    const response = new URLSearchParams({ code: input.code, state: input.state });
    const metadata = (await this.rp.configuration()).serverMetadata();
    if (metadata.authorization_response_iss_parameter_supported) response.set('iss', metadata.issuer);
    const claims = await this.rp.exchange({ redirectUri: pending.redirectUri, response, state: input.state, nonce: pending.nonce, codeVerifier: input.codeVerifier });
    const user = await this.accounts.resolve(claims);
    const { token } = await this.createSession(user, pending.clientName);
    return { user, token };
  }

  /** Gotify 3's createClient: a session client (expires after inactivity) that starts elevated. */
  private createSession(user: UserRecord, name: string) {
    const { expiresAfterInactivitySeconds, elevationSeconds } = this.deps.session;
    return this.deps.clients.create(user.id, name, {
      expiresAfterInactivitySeconds,
      elevatedUntil: new Date(Date.now() + elevationSeconds * 1000).toISOString(),
    });
  }
}

/** One cookie per login in progress (named by its state), so two tabs signing in at once do not clobber each other. */
export const PENDING_COOKIE_PREFIX = 'flow-oidc-';
export const pendingCookieName = (state: string): string => PENDING_COOKIE_PREFIX + state.slice(0, 16);
