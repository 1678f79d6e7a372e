import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The plain-HTTP handler when `server.ssl.redirecttohttps` is on, as Gotify's: GET and HEAD
 * are redirected (302) to the same path on the HTTPS port; other methods get 400 "Use HTTPS",
 * because a client following a redirect would resend its body (a message, a password) over
 * whatever it chose, or drop it.
 */
export function redirectToHttps(httpsPort: number) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Use HTTPS\n');
      return;
    }
    const hostHeader = req.headers.host ?? 'localhost';
    // Host may carry a port ("example.com:8080", "[::1]:8080"): keep the name, use the HTTPS port.
    const name = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0]!;
    const target = `https://${name}${httpsPort === 443 ? '' : ':' + httpsPort}${req.url ?? '/'}`;
    res.writeHead(302, { Location: target, 'Content-Type': 'text/plain; charset=utf-8' }).end(`Found: ${target}\n`);
  };
}
