import { WEBHOOK_PREFIX } from '../model/webhook-path.js';
import { forwardedHost } from './location.js';
import type { FlowContext, FlowMiddleware } from './state.js';

export interface CorsOptions {
  /** `server.cors.alloworigins`: regexes matched, unanchored as Go's `MatchString`, against the lower-cased Origin. */
  allowOrigins: readonly string[];
  /** `server.cors.allowmethods`: sent upper-cased on preflights; empty sends no Access-Control-Allow-Methods. */
  allowMethods: readonly string[];
  /** `server.cors.allowheaders`: sent in canonical form on preflights; empty sends no Access-Control-Allow-Headers. */
  allowHeaders: readonly string[];
}

/** gin-contrib/cors `MaxAge` as Gotify sets it (`auth.CorsConfig`: 12 hours). */
const MAX_AGE_SECONDS = String(12 * 60 * 60);

/** Plugin webhooks are for third parties (GitHub, …); Gotify registers their group before cors. */

/**
 * Gotify 2.9.1's CORS (gin-contrib/cors v1.7.6 with `auth.CorsConfig`), which guards every API
 * route, not only preflights, so a page on another origin cannot drive the API with the
 * browser's cached Basic credentials (e.g. a cross-site form `POST /user` creating an admin):
 * 1. no `Origin`, an exempt route, or an Origin that is `http(s)://` + `Host` or + `X-Forwarded-Host` → pass;
 * 2. Origin matches none of `allowOrigins` → 403 with an empty body;
 * 3. allowed: `Access-Control-Allow-Origin: <origin>` and `Vary: Origin`; an OPTIONS request is
 *    answered here, 204 with Allow-Methods/-Headers (when configured) and Max-Age 43200.
 *
 * Exempt, as Gotify registers them before cors: the web UI (static-ui is mounted first), `GET|HEAD
 * /health` and `/image/…`, and plugin webhooks under `/plugin/:id/custom/` (any method). The /stream
 * upgrade never reaches Koa; it keeps its own check (`server.stream.allowedorigins`, stream/hub.ts).
 *
 * `X-Forwarded-Host` is Flow's addition: Gin compares Host only, which breaks the web UI behind a
 * proxy that rewrites Host. It opens nothing to other sites: a browser cannot add that header to a
 * cross-origin request without a preflight, and the preflight itself fails step 2.
 */
export function cors(options: CorsOptions): FlowMiddleware {
  const origins = options.allowOrigins.map((source) => new RegExp(source));
  const methods = distinct(options.allowMethods).map((m) => m.toUpperCase()).join(',');
  const headers = distinct(options.allowHeaders).map(canonicalHeaderKey).join(',');

  // Not async: most requests carry no cross-origin Origin and only pass through.
  return (ctx, next) => {
    const origin = ctx.req.headers.origin;
    if (!origin || exempt(ctx.method, ctx.path) || sameHost(ctx, origin)) return next();
    const lower = origin.toLowerCase();
    if (!origins.some((re) => re.test(lower))) {
      // gin's AbortWithStatus(403): no error body.
      ctx.status = 403;
      ctx.body = '';
      ctx.type = 'application/json';
      return undefined;
    }
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.vary('Origin');
    if (ctx.method !== 'OPTIONS') return next();
    // Any OPTIONS from an allowed origin is a preflight to gin-contrib/cors, Access-Control-Request-Method or not.
    ctx.vary('Access-Control-Request-Method');
    ctx.vary('Access-Control-Request-Headers');
    if (methods) ctx.set('Access-Control-Allow-Methods', methods);
    if (headers) ctx.set('Access-Control-Allow-Headers', headers);
    ctx.set('Access-Control-Max-Age', MAX_AGE_SECONDS);
    ctx.status = 204;
    return undefined;
  };
}

function exempt(method: string, path: string): boolean {
  if (WEBHOOK_PREFIX.test(path)) return true;
  if (method !== 'GET' && method !== 'HEAD') return false;
  return path === '/health' || path.startsWith('/image/');
}

function sameHost(ctx: FlowContext, origin: string): boolean {
  const o = origin.toLowerCase();
  const host = (ctx.req.headers.host ?? '').toLowerCase();
  if (host && (o === `http://${host}` || o === `https://${host}`)) return true;
  const forwarded = forwardedHost(ctx.req);
  return forwarded !== undefined && (o === `http://${forwarded}` || o === `https://${forwarded}`);
}

/** gin-contrib/cors `normalize`: trimmed, lower-cased, duplicates dropped. */
function distinct(values: readonly string[]): string[] {
  return [...new Set(values.map((v) => v.trim().toLowerCase()))];
}

/** Go's http.CanonicalHeaderKey for valid tokens: `x-gotify-key` → `X-Gotify-Key`. */
function canonicalHeaderKey(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}
