import type { FlowMiddleware } from './state.js';

/**
 * `server.responseheaders`, as Gotify: these headers go on every response of the API, the web UI
 * and webhooks (e.g. Strict-Transport-Security, a Content-Security-Policy of your own). Set
 * before the request is handled, so a response that sets one itself (a route's Content-Type,
 * CORS's Access-Control-*, a plugin's webhook reply) keeps its own value, as in Gotify; set again
 * afterwards where an error path cleared them. The websocket handshake of /stream does not
 * carry them (it is not an HTTP response of the router, in Gotify either).
 */
export function responseHeaders(headers: Readonly<Record<string, string>>): FlowMiddleware {
  const entries = Object.entries(headers);
  return async (ctx, next) => {
    for (const [name, value] of entries) ctx.res.setHeader(name, value);
    try {
      await next();
    } finally {
      if (!ctx.res.headersSent) for (const [name, value] of entries) if (!ctx.res.hasHeader(name)) ctx.res.setHeader(name, value);
    }
  };
}
