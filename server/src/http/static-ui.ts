import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { SERVER_ROOT } from '../paths.js';
import type { Next } from 'koa';
import type { FlowContext, FlowMiddleware } from './state.js';

/** Where `npm run build` puts the web UI (server/ui/dist; ui/dist in the installed package). */
export const DEFAULT_UI_ROOT = path.join(SERVER_ROOT, 'ui', 'dist') + path.sep;

export interface StaticUiOptions {
  /** Folder holding the built UI (`index.html`, `favicon.svg`, `assets/`). Default: {@link DEFAULT_UI_ROOT}. */
  root?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/**
 * The page's Content-Security-Policy: a second line of defence behind the UI's DOMPurify sanitising of
 * message and plugin markdown. Scripts only from Flow itself; `connect-src 'self'` covers the API and the
 * same-origin websocket. Inline styles stay allowed because CodeMirror injects its theme as `<style>`.
 * Images may come from anywhere (markdown messages link them) but cannot run code.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: http: https:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface CachedFile {
  mtimeMs: number;
  raw: Buffer;
  gzip: Buffer | null;
}

/** Maps a request path to a file of the built UI, or `null` when the path belongs to the API. */
function uiFile(urlPath: string): string | null {
  if (urlPath === '/' || urlPath === '/index.html') return 'index.html';
  if (urlPath === '/favicon.svg') return 'favicon.svg';
  // Vite names every asset `assets/<name>-<hash>.<ext>`; anything else (dots, slashes) is not ours.
  if (/^\/assets\/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(urlPath)) return urlPath.slice(1);
  return null;
}

/**
 * Serves the web UI at `/`: `index.html`, `favicon.svg` and Vite's hashed `assets/`. Every other path
 * goes on to the API, so it must be mounted before the routes but never shadows one (the UI routes in
 * the URL hash, so it needs no history fallback). Hashed assets are cached for a year; `index.html` is
 * revalidated on every load so a new build is picked up at once. Text files are gzipped once per build
 * and kept in memory (the whole UI is well under 1 MB).
 *
 * When the UI has not been built, `/` answers 503 with the command that builds it.
 */
export function staticUi(options: StaticUiOptions = {}): FlowMiddleware {
  const root = path.resolve(options.root ?? DEFAULT_UI_ROOT);
  const cache = new Map<string, CachedFile>();

  async function load(file: string): Promise<CachedFile | null> {
    const full = path.join(root, file);
    let info;
    try {
      info = await stat(full);
    } catch {
      return null;
    }
    if (!info.isFile()) return null;
    const hit = cache.get(full);
    if (hit && hit.mtimeMs === info.mtimeMs) return hit;
    const raw = await readFile(full);
    const compressible = /\.(html|js|css|svg|map)$/.test(file) && raw.length > 1024;
    const entry = { mtimeMs: info.mtimeMs, raw, gzip: compressible ? gzipSync(raw) : null };
    cache.set(full, entry);
    return entry;
  }

  // Not async: every API request passes through here, and only UI files need to wait for a file.
  return (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const file = uiFile(ctx.path);
    if (!file) return next();
    return serve(ctx, next, file);
  };

  async function serve(ctx: FlowContext, next: Next, file: string): Promise<void> {
    const entry = await load(file);
    if (!entry) {
      if (file !== 'index.html') return next();
      ctx.status = 503;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = "Flow's web UI has not been built. Run `npm run build` (or `npm start`, which builds it) in the Flow folder.\n";
      return;
    }

    const isIndex = file === 'index.html';
    ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', isIndex ? 'no-cache' : 'public, max-age=31536000, immutable');
    if (isIndex) {
      ctx.set('Content-Security-Policy', CSP);
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set('X-Frame-Options', 'DENY');
    }
    ctx.etag = `W/"${entry.raw.length.toString(16)}-${Math.floor(entry.mtimeMs).toString(16)}"`;
    ctx.vary('Accept-Encoding');
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    if (entry.gzip && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      ctx.set('Content-Encoding', 'gzip');
      ctx.body = entry.gzip;
    } else {
      ctx.body = entry.raw;
    }
  }
}
