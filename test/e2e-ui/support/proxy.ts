/**
 * A minimal reverse proxy that mounts Flow under a sub-path, the way nginx or Caddy would
 * (`location /flow/ { proxy_pass http://flow/; }`), websockets included. It strips the prefix and
 * forwards everything else untouched, so the UI only works through it if every URL it builds is
 * relative to its own base.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';

export interface SubPathProxy {
  /** The proxied UI's URL, e.g. `http://127.0.0.1:41234/flow/`. */
  url: string;
  close(): Promise<void>;
}

function stripPrefix(req: IncomingMessage, prefix: string): string | null {
  const url = req.url ?? '/';
  return url.startsWith(prefix) ? `/${url.slice(prefix.length)}` : null;
}

export interface SubPathProxyOptions {
  /**
   * Send Flow the upstream address as Host and the browser's Host as X-Forwarded-Host, as nginx
   * does with `proxy_set_header X-Forwarded-Host $host` and its default `Host $proxy_host`.
   */
  rewriteHost?: boolean;
}

export async function startSubPathProxy(target: string, prefix = '/flow/', options: SubPathProxyOptions = {}): Promise<SubPathProxy> {
  const { hostname, port, host: upstreamHost } = new URL(target);
  const forwardHeaders = (req: IncomingMessage) =>
    options.rewriteHost ? { ...req.headers, host: upstreamHost, 'x-forwarded-host': req.headers.host ?? '' } : req.headers;
  const server: Server = createServer((req, res) => {
    const upstreamPath = stripPrefix(req, prefix);
    if (upstreamPath === null) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not under the proxy prefix\n');
      return;
    }
    const upstream = request(
      { host: hostname, port, method: req.method, path: upstreamPath, headers: { ...forwardHeaders(req), 'x-forwarded-prefix': prefix } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('upgrade', (req, socket, head) => {
    const upstreamPath = stripPrefix(req, prefix);
    if (upstreamPath === null) {
      socket.destroy();
      return;
    }
    const upstream = connect(Number(port), hostname, () => {
      const headers = Object.entries(forwardHeaders(req)).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`]));
      upstream.write(`${req.method} ${upstreamPath} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}${prefix}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
