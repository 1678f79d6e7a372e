import type { IncomingMessage } from 'node:http';
import { forwardedHost, type ProxiedRequest } from './location.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-origin protection for cookie-authenticated requests, as Gotify 3 uses Go's
 * http.CrossOriginProtection: safe methods pass; otherwise a browser's `Sec-Fetch-Site` must be
 * `same-origin` or `none`, or (older browsers, and origins that are not https or localhost, where
 * browsers send no Sec-Fetch-*) the `Origin` host must be the request's Host or X-Forwarded-Host.
 * Requests without either header are not from a browser and pass. Returns an error text or undefined.
 */
export function crossOriginError(req: Pick<IncomingMessage, 'headers' | 'method'> & ProxiedRequest): string | undefined {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return undefined;
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== '') {
    return site === 'same-origin' || site === 'none' ? undefined : 'cross-origin request detected from Sec-Fetch-Site header';
  }
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === '') return undefined;
  try {
    const host = new URL(origin).host.toLowerCase();
    // Flow's addition, as its CORS check: a proxy that rewrites Host passes the browser's in X-Forwarded-Host.
    if (host === String(req.headers.host ?? '').toLowerCase() || host === forwardedHost(req)) return undefined;
  } catch {
    // An Origin that is not a URL ("null") is cross-origin.
  }
  return 'cross-origin request detected, and/or browser is out of date: Sec-Fetch-Site is missing, and Origin does not match Host';
}
