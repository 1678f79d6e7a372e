import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestItem {
  guid?: string;
  title: string;
  link?: string;
  description?: string;
  date?: Date;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A loopback HTTP server whose routes tests replace at will; counts requests and concurrency. */
export class FeedServer {
  readonly routes = new Map<string, Handler>();
  readonly hits = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  private server: Server;
  private port = 0;

  private constructor() {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on('close', () => this.inFlight--);
      const handler = this.routes.get(path);
      if (!handler) {
        res.writeHead(404).end('not found');
        return;
      }
      Promise.resolve(handler(req, res)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(err));
      });
    });
  }

  static async start(): Promise<FeedServer> {
    const s = new FeedServer();
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Serves an RSS 2.0 feed built from `items()` at each request, with an ETag and 304 support. */
  rss(path: string, items: () => TestItem[], title = 'Test feed'): void {
    this.routes.set(path, (req, res) => {
      const body = rssXml(title, items());
      const etag = `"${hash(body)}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', etag }).end(body);
    });
  }

  /** Serves fixed text with a content type. */
  text(path: string, body: string | Buffer, contentType = 'application/xml', status = 200): void {
    this.routes.set(path, (_req, res) => {
      res.writeHead(status, { 'content-type': contentType }).end(body);
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function hash(text: string): string {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return (h >>> 0).toString(16);
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Newest first, as real feeds list items. */
export function rssXml(title: string, items: TestItem[]): string {
  const entries = items
    .map(
      (item) => `    <item>
      <title>${escapeXml(item.title)}</title>
${item.guid !== undefined ? `      <guid isPermaLink="false">${escapeXml(item.guid)}</guid>\n` : ''}${item.link !== undefined ? `      <link>${escapeXml(item.link)}</link>\n` : ''}${item.description !== undefined ? `      <description>${escapeXml(item.description)}</description>\n` : ''}${item.date !== undefined ? `      <pubDate>${item.date.toUTCString()}</pubDate>\n` : ''}    </item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>${escapeXml(title)}</title>
    <link>https://example.com/</link>
    <description>test</description>
${entries}
  </channel>
</rss>
`;
}

export function atomXml(title: string, entries: Array<{ id: string; title: string; link?: string; summary?: string; updated: Date }>): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>${escapeXml(title)}</title>
  <id>urn:test:feed</id>
  <updated>${new Date(0).toISOString()}</updated>
${entries
  .map(
    (e) => `  <entry>
    <id>${escapeXml(e.id)}</id>
    <title>${escapeXml(e.title)}</title>
${e.link !== undefined ? `    <link rel="alternate" href="${escapeXml(e.link)}"/>\n` : ''}${e.summary !== undefined ? `    <summary type="html">${escapeXml(e.summary)}</summary>\n` : ''}    <updated>${e.updated.toISOString()}</updated>
  </entry>`,
  )
  .join('\n')}
</feed>
`;
}
