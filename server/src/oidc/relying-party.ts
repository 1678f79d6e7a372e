import * as client from 'openid-client';
import { HttpError } from '../errors.js';
import type { Logger } from '../log.js';
import type { OidcSettings } from './settings.js';

/** Discovery is read again after this long, so a provider's changed endpoints are picked up. */
const METADATA_MAX_AGE_MS = 60 * 60 * 1000;
/** Deadline of every request to the provider (openid-client's `timeout`, in seconds). */
const PROVIDER_TIMEOUT_SECONDS = 10;

/** What a completed code exchange tells about the user: the ID token's claims, then userinfo's over them. */
export type IdentityClaims = Record<string, unknown> & { iss: string; sub: string };

export interface AuthorizationRequest {
  redirectUri: string;
  state: string;
  nonce: string;
  codeChallenge: string;
}

export interface CodeExchange {
  /** The redirect URI of the authorization request (the token request must repeat it). */
  redirectUri: string;
  /** The query the provider sent back (code, state, iss, or error). */
  response: URLSearchParams;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * Flow as an OpenID Connect relying party, over `openid-client`. The provider's metadata is
 * discovered at the first login, not at start: a provider that is down only fails logins (503),
 * and the next login tries again. Every failure becomes an exposed HttpError whose text names
 * the cause without any token, code or secret; the library's error objects (whose causes carry
 * claims and responses) are never logged whole.
 */
export class RelyingParty {
  private current?: { config: client.Configuration; at: number };
  private pending?: Promise<client.Configuration>;

  constructor(
    private readonly settings: OidcSettings,
    private readonly log: Logger,
    /** Milliseconds since the epoch (tests move it to expire ID tokens). */
    private readonly clock: () => number = Date.now,
  ) {}

  /** The discovered configuration; 503 when the provider cannot be reached. */
  async configuration(): Promise<client.Configuration> {
    const now = Date.now();
    if (this.current && now - this.current.at < METADATA_MAX_AGE_MS) return this.withClock(this.current.config);
    this.pending ??= this.discover().finally(() => (this.pending = undefined));
    return this.withClock(await this.pending);
  }

  /** With an injected clock (tests), a configuration whose ID token checks use that time. */
  private withClock(config: client.Configuration): client.Configuration {
    const skew = Math.round((this.clock() - Date.now()) / 1000);
    if (skew === 0) return config;
    const skewed = this.build(config.serverMetadata(), { [client.clockSkew]: skew });
    if (this.settings.issuer.protocol === 'http:') client.allowInsecureRequests(skewed);
    skewed.timeout = PROVIDER_TIMEOUT_SECONDS;
    return skewed;
  }

  /**
   * The configuration for the discovered metadata. The token endpoint's client authentication:
   * none for a public client; client_secret_basic (the OpenID default) unless the provider
   * only offers client_secret_post.
   */
  private build(metadata: client.ServerMetadata, extra: Partial<client.ClientMetadata> = {}): client.Configuration {
    const { clientId, clientSecret } = this.settings;
    if (clientSecret === '') return new client.Configuration(metadata, clientId, extra, client.None());
    const methods = metadata.token_endpoint_auth_methods_supported;
    const auth =
      methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')
        ? client.ClientSecretPost(clientSecret)
        : client.ClientSecretBasic(clientSecret);
    return new client.Configuration(metadata, clientId, { client_secret: clientSecret, ...extra }, auth);
  }

  private async discover(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    // An http issuer is the admin's explicit choice (a provider on a private network or loopback).
    const execute = issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [];
    let config: client.Configuration;
    try {
      config = await client.discovery(issuer, clientId, clientSecret === '' ? undefined : clientSecret, clientSecret === '' ? client.None() : undefined, {
        execute,
        timeout: PROVIDER_TIMEOUT_SECONDS,
      });
    } catch (err) {
      throw this.failure(err, 'discovery');
    }
    config = this.build(config.serverMetadata());
    for (const run of execute) run(config);
    config.timeout = PROVIDER_TIMEOUT_SECONDS;
    this.current = { config, at: Date.now() };
    this.log.info({ issuer: config.serverMetadata().issuer }, 'OIDC provider discovered');
    return config;
  }

  /** The provider's authorization URL for one login (code flow, PKCE S256, nonce). */
  async authorizationUrl(req: AuthorizationRequest): Promise<string> {
    const config = await this.configuration();
    return client
      .buildAuthorizationUrl(config, {
        redirect_uri: req.redirectUri,
        scope: this.settings.scopes.join(' '),
        response_type: 'code',
        state: req.state,
        nonce: req.nonce,
        code_challenge: req.codeChallenge,
        code_challenge_method: 'S256',
      })
      .href;
  }

  /**
   * Validates the authorization response (state, issuer), redeems the code with the PKCE
   * verifier, validates the ID token (signature, issuer, audience, expiry, nonce) and reads
   * userinfo when the provider has that endpoint.
   */
  async exchange(x: CodeExchange): Promise<IdentityClaims> {
    const config = await this.configuration();
    const url = new URL(x.redirectUri);
    for (const [k, v] of x.response) url.searchParams.append(k, v);
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: x.codeVerifier,
        expectedState: x.state,
        expectedNonce: x.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw this.failure(err, 'code exchange');
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new HttpError(401, 'the provider sent no ID token', { expose: true });
    let info: Record<string, unknown> = {};
    if (config.serverMetadata().userinfo_endpoint) {
      try {
        info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      } catch (err) {
        throw this.failure(err, 'userinfo');
      }
    }
    return { ...idClaims, ...info, iss: idClaims.iss, sub: idClaims.sub };
  }

  /** Maps a library or network error to a clear, exposed HttpError; logs what it was, without secrets. */
  private failure(err: unknown, step: string): HttpError {
    const e = err as { name?: string; code?: string; message?: string; error?: string; error_description?: string; status?: number; cause?: unknown };
    const cause = e.cause as { code?: string; message?: string; name?: string } | undefined;
    this.log.warn({ step, error: { name: e.name, code: e.code ?? cause?.code, message: e.message, oauthError: e.error, status: e.status } }, 'OIDC sign-in failed');
    if (err instanceof client.ResponseBodyError) {
      const detail = `${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
      if (step === 'userinfo') return new HttpError(502, `the provider refused the userinfo request: ${detail}`, { expose: true });
      return new HttpError(401, `token exchange failed: the provider answered ${detail}`, { expose: true });
    }
    if (err instanceof client.AuthorizationResponseError) {
      return new HttpError(401, `the provider refused the sign-in: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`, { expose: true });
    }
    const code = e.code ?? '';
    const network = err instanceof TypeError && (e.message === 'fetch failed' || cause?.code !== undefined);
    if (network || code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT' || e.name === 'TimeoutError') {
      const why = cause?.code ?? cause?.message ?? e.message ?? 'unreachable';
      return new HttpError(503, `the OIDC provider cannot be reached (${step}: ${why}); try again later`, { expose: true });
    }
    if (code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED' || code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') {
      // The precise reason ("exp" is past, nonce mismatch) is the cause's message; its claims stay out.
      return new HttpError(401, `the provider's ID token was rejected: ${cause?.message ?? e.message}`, { expose: true });
    }
    if (step === 'discovery' && (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON')) {
      const where = new URL('.well-known/openid-configuration', this.settings.issuer.href.endsWith('/') ? this.settings.issuer : `${this.settings.issuer.href}/`);
      return new HttpError(502, `the provider's discovery document could not be read at ${where.href} (${e.message}): check oidc.issuer`, { expose: true });
    }
    if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON' || code === 'OAUTH_INVALID_RESPONSE') {
      return new HttpError(502, `the OIDC provider sent an unusable answer (${step}: ${e.message})`, { expose: true });
    }
    if (code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' && step === 'discovery') {
      return new HttpError(502, `the provider's discovery document does not match oidc.issuer (${e.message})`, { expose: true });
    }
    return new HttpError(401, `OIDC sign-in failed (${step}: ${e.message ?? 'unknown error'})`, { expose: true });
  }
}
