/**
 * A real OpenID provider for the OIDC tests: `oidc-provider` (certified) on a loopback port.
 * Its interaction step (where a user would type a password) signs in as `idp.loginAs` without a
 * form, so tests drive the whole redirect dance with fetch or a browser. Users and their claims
 * are in `idp.users` and may change between logins (a group removed, say).
 *
 *   const idp = await startIdp();                   // issuer http://127.0.0.1:<port>
 *   idp.register(flowUrl + '/auth/oidc/callback');  // before the first authorization request
 *   idp.loginAs = 'alice';
 *   await idp.close();
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'flow';
export const CLIENT_SECRET = 'idp-client-secret-Zq81xv';
export const APP_REDIRECT = 'gotify://oidc/callback';
/** A second client without a secret (public: PKCE only). */
export const PUBLIC_CLIENT_ID = 'flow-public';

export interface IdpUser {
  sub: string;
  preferred_username?: string;
  name?: string;
  email?: string;
  groups?: string[];
}

export interface Idp {
  issuer: string;
  port: number;
  users: Record<string, IdpUser>;
  /** The account the next interaction signs in as (a key of `users`). */
  loginAs: string;
  /** Adds the RP's redirect URI(s) to the registered client (rebuilds the provider; sessions are dropped). */
  register(...redirectUris: string[]): void;
  /** Stops answering (connections closed); `listen()` starts again on the same port. */
  stop(): Promise<void>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };

export async function startIdp(opts: { port?: number; idTokenTtlSeconds?: number } = {}): Promise<Idp> {
  let provider: any;
  const server = http.createServer((req, res) => {
    if (!provider) {
      res.statusCode = 503;
      res.end('provider not configured');
      return;
    }
    if (req.url?.startsWith('/interaction/')) {
      void interact(req, res);
      return;
    }
    provider.callback()(req, res);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const redirectUris = new Set<string>([APP_REDIRECT]);

  const idp: Idp = {
    issuer,
    port,
    users: {
      alice: { sub: 'alice-sub', preferred_username: 'alice', name: 'Alice Liddell', email: 'alice@example.org', groups: ['flow-admins', 'staff'] },
      bob: { sub: 'bob-sub', preferred_username: 'bob', name: 'Bob', email: 'bob@example.org', groups: ['staff'] },
      // No email, no name: only a username.
      dave: { sub: 'dave-sub', preferred_username: 'dave' },
      // Only a subject: no username claim at all.
      nobody: { sub: 'nobody-sub' },
    },
    loginAs: 'alice',
    register(...uris) {
      for (const u of uris) redirectUris.add(u);
      provider = build();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    listen: () => listen(port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  function build() {
    const p = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          // Native: loopback http redirect URIs (Flow's callback in tests) and the app's custom scheme.
          application_type: 'native',
          redirect_uris: [...redirectUris],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        {
          client_id: PUBLIC_CLIENT_ID,
          application_type: 'native',
          redirect_uris: [...redirectUris],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        },
      ],
      jwks: { keys: [signingKey] },
      cookies: { keys: ['idp-cookie-key-for-tests'] },
      claims: { openid: ['sub'], profile: ['preferred_username', 'name', 'groups'], email: ['email'] },
      features: { devInteractions: { enabled: false } },
      ttl: { IdToken: opts.idTokenTtlSeconds ?? 3600, AccessToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      findAccount: (_ctx: unknown, id: string) => {
        const entry = Object.entries(idp.users).find(([, u]) => u.sub === id);
        if (!entry) return undefined;
        return {
          accountId: id,
          claims: () => {
            const u = idp.users[entry[0]]!; // read at issue time: tests change claims between logins
            return Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined));
          },
        };
      },
    });
    p.on('server_error', (_ctx: unknown, err: Error) => console.error('oidc-provider server_error', err));
    return p;
  }

  async function interact(req: http.IncomingMessage, res: http.ServerResponse) {
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        const user = idp.users[idp.loginAs];
        if (!user) throw new Error(`unknown test user ${idp.loginAs}`);
        await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
        return;
      }
      // consent: a first-party client gets every scope it asked for.
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      const missing = details.prompt.details.missingOIDCScope as string[] | undefined;
      if (missing) grant.addOIDCScope(missing.join(' '));
      const claims = details.prompt.details.missingOIDCClaims as string[] | undefined;
      if (claims) grant.addOIDCClaims(claims);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  }

  return idp;
}

/** A minimal cookie jar for driving redirects with fetch (name, value and path; Max-Age=0 deletes). */
export class CookieJar {
  private readonly cookies = new Map<string, { origin: string; name: string; value: string; path: string }>();

  store(url: string, res: Response): void {
    const origin = new URL(url).origin;
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const key = `${origin} ${name} ${path}`;
      if (/max-age=0\b/i.test(line) || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { origin, name, value, path });
    }
  }

  header(url: string): string {
    const u = new URL(url);
    return [...this.cookies.values()]
      .filter((c) => c.origin === u.origin && u.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  get(origin: string, name: string): string | undefined {
    return [...this.cookies.values()].find((c) => c.origin === origin && c.name === name)?.value;
  }
}

/** GET with the jar's cookies, no redirect following. */
export async function get(jar: CookieJar, url: string): Promise<Response> {
  const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) } });
  jar.store(url, res);
  return res;
}

/**
 * Follows redirects from `url` through the provider until one leads to `stopAt` (a URL prefix:
 * Flow's callback, or the app's custom scheme), and returns that URL without requesting it.
 */
export async function authorize(jar: CookieJar, url: string, stopAt: string): Promise<string> {
  let next = url;
  for (let i = 0; i < 20; i++) {
    if (next.startsWith(stopAt)) return next;
    const res = await get(jar, next);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Error(`expected a redirect from ${next}, got ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    next = new URL(location, next).href;
  }
  throw new Error('too many redirects');
}
