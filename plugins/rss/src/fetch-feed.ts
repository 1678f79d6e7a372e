import { formatDuration } from './units.js';

export interface FetchOptions {
  timeoutMs: number;
  maxBytes: number;
  /** Validators from the previous 200 response, for a conditional GET. */
  etag?: string;
  lastModified?: string;
  /** Aborted when the instance stops; the fetch then rejects with FetchAborted. */
  signal: AbortSignal;
}

export type FetchResult =
  | { kind: 'not-modified' }
  | { kind: 'ok'; text: string; finalUrl: string; etag?: string; lastModified?: string };

/**
 * A failed poll with a short reason for the display (`HTTP 503`, `timed out after 20s`).
 * `retryAfterMs` is the server's Retry-After, when it sent one with a 429 or 503.
 */
export class FeedFetchError extends Error {
  override name = 'FeedFetchError';
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** The instance stopped while the request was in flight: not the feed's fault, not an error. */
export class FetchAborted extends Error {
  override name = 'FetchAborted';
}

const USER_AGENT = 'Flow-RSS/1.0 (+https://github.com/flow/flow; feed poller plugin)';
const ACCEPT = 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1';

/**
 * GETs a feed the way a good citizen does: conditional when validators are known, redirects
 * followed (fetch's limit of 20), one deadline for headers and body together, and the body
 * read incrementally so an oversized or endless response is cut at `maxBytes` rather than
 * buffered.
 */
export async function fetchFeed(url: string, options: FetchOptions): Promise<FetchResult> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, deadline]);
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: ACCEPT };
  if (options.etag !== undefined) headers['if-none-match'] = options.etag;
  if (options.lastModified !== undefined) headers['if-modified-since'] = options.lastModified;

  const fail = (err: unknown): never => {
    if (options.signal.aborted) throw new FetchAborted('stopped');
    if (deadline.aborted) throw new FeedFetchError(`timed out after ${formatDuration(options.timeoutMs)}`);
    if (err instanceof FeedFetchError) throw err;
    throw new FeedFetchError(networkReason(err));
  };

  let response: Response;
  try {
    response = await fetch(url, { headers, signal, redirect: 'follow' });
  } catch (err) {
    return fail(err);
  }

  try {
    if (response.status === 304) {
      await response.body?.cancel();
      return { kind: 'not-modified' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      const retryAfter = response.status === 429 || response.status === 503 ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
      throw new FeedFetchError(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`, retryAfter);
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > options.maxBytes) {
      await response.body?.cancel();
      throw new FeedFetchError(tooLarge(options.maxBytes));
    }
    const bytes = await readCapped(response, options.maxBytes);
    const result: FetchResult = { kind: 'ok', text: decode(bytes, response.headers.get('content-type')), finalUrl: response.url || url };
    const etag = response.headers.get('etag');
    const lastModified = response.headers.get('last-modified');
    if (etag) result.etag = etag;
    if (lastModified) result.lastModified = lastModified;
    return result;
  } catch (err) {
    await response.body?.cancel().catch(() => undefined);
    return fail(err);
  }
}

function tooLarge(maxBytes: number): string {
  return `response larger than ${Math.round(maxBytes / 1024)} KB (max_size)`;
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new FeedFetchError(tooLarge(maxBytes));
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Feeds still come in legacy encodings (ISO-8859-1, windows-1252) and now and then in UTF-16: a
 * byte order mark decides first (as in browsers: servers mislabel more often than files do), then
 * the Content-Type header's charset, then the XML declaration, else UTF-8.
 */
function decode(bytes: Uint8Array, contentType: string | null): string {
  const sniffed = sniffUnicode(bytes);
  if (sniffed !== undefined) return new TextDecoder(sniffed).decode(bytes);
  const fromHeader = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  const fromDeclaration = /^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']/i.exec(head)?.[1];
  for (const label of [fromHeader, fromDeclaration]) {
    if (label === undefined) continue;
    try {
      return new TextDecoder(label).decode(bytes);
    } catch {
      // An unknown label: try the next source, then UTF-8.
    }
  }
  return new TextDecoder('utf-8').decode(bytes);
}

/** A BOM, or UTF-16 without one (XML 1.0 appendix F: `<?` as two-byte units). */
function sniffUnicode(b: Uint8Array): string | undefined {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf-8';
  if (b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  if (b[0] === 0x3c && b[1] === 0 && b[2] === 0x3f && b[3] === 0) return 'utf-16le';
  if (b[0] === 0 && b[1] === 0x3c && b[2] === 0 && b[3] === 0x3f) return 'utf-16be';
  return undefined;
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** undici hides the useful part (ECONNREFUSED, ENOTFOUND, certificate errors) in `cause`. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') return 'host not found';
  if (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') return 'connection reset';
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
