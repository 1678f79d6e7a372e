import type { IncomingMessage } from 'node:http';
import { HttpError, badRequest, payloadTooLarge } from '../errors.js';
import { DocumentTooLarge, parseJsonBounded } from '../parse/bounded.js';
import type { FlowContext } from './state.js';

/** Oversized bodies up to this many times the limit are drained after the 413 (see readRawBody). */
const DRAIN_FACTOR = 8;

/** Default of `limits.bodytimeoutms` (app.ts puts the configured value on the Koa context). */
const BODY_TIMEOUT_MS = 30_000;

/**
 * Request bodies are read per route, never globally, and only after the route's authorization
 * check (an anonymous caller cannot make the server hold its body): webhooks under
 * /plugin/:id/custom/ get raw bytes, the API gets JSON/form fields, uploads get multipart. All go
 * through `readRawBody`, which enforces `limits.bodybytes` (413) before and while reading and
 * `limits.bodytimeoutms` for the whole body (408, connection closed: a slow sender cannot hold
 * the memory of a half-read body); `limitKey` names another key in the 413 text when a route
 * has its own limit (`limits.imagebytes`).
 */
export async function readRawBody(ctx: FlowContext, limit: number, limitKey?: string): Promise<Buffer> {
  const declared = ctx.get('content-length');
  if (declared && Number(declared) > limit) {
    // Node discards the unread body after the response so the client can read the 413 instead
    // of a reset; beyond a few limits that is not worth the bandwidth, so the connection is closed.
    if (Number(declared) > DRAIN_FACTOR * limit) ctx.set('Connection', 'close');
    throw payloadTooLarge(limit, limitKey);
  }
  const req = ctx.req;
  const whole = bufferedBody(req, limit);
  if (whole) return whole;
  const timeoutMs = (ctx as { bodyTimeoutMs?: number }).bodyTimeoutMs ?? BODY_TIMEOUT_MS;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: unknown, body?: Buffer) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (err) {
        // Stop here rather than drain an endless or stalled stream.
        ctx.set('Connection', 'close');
        req.pause();
        reject(err);
      } else resolve(body!);
    };
    const timer = setTimeout(() => done(new HttpError(408, `request body not received within ${timeoutMs} ms (limits.bodytimeoutms)`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return done(payloadTooLarge(limit, limitKey));
      chunks.push(chunk);
    };
    const onEnd = () => done(undefined, Buffer.concat(chunks, size));
    const onError = (err: Error) => done(err);
    const onAborted = () => done(new HttpError(400, 'request aborted by the client'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    if (req.readableEnded) onEnd();
  });
}

/**
 * The body when Node's parser has already received all of it and nobody has read any: a small
 * request arrives in one packet with its headers, and its body is in the stream's buffer before
 * this route's first `await` returns (the parser may not have flagged the message `complete` yet,
 * but it never buffers more than Content-Length). Taken in one `read()`, without the listeners,
 * the timer and the flowing-mode switch of the general path (bench/README.md, "HTTP"). Undefined
 * otherwise (body still arriving, already flowing, or over the limit: the general path answers).
 */
function bufferedBody(req: IncomingMessage, limit: number): Buffer | undefined {
  if (req.readableFlowing !== null || req.readableEnded) return undefined;
  const expected = req.complete ? req.readableLength : declaredLength(req);
  if (req.readableLength !== expected || expected > limit) return undefined;
  if (expected === 0) return Buffer.alloc(0);
  return (req.read() as Buffer | null) ?? undefined;
}

/** Content-Length as a number; NaN when absent or when the body is chunked. */
function declaredLength(req: IncomingMessage): number {
  const declared = req.headers['content-length'];
  return declared === undefined || req.headers['transfer-encoding'] !== undefined ? NaN : Number(declared);
}

/** What nearly every JSON sender sends, recognised without type-is's parsing (the answer is the same). */
const PLAIN_JSON = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8']);

/** type-is's test: a JSON or `+json` type on a request that has a body (Content-Length or Transfer-Encoding). */
function isJson(ctx: FlowContext): boolean {
  const req = ctx.req;
  const type = req.headers['content-type'];
  if (type !== undefined && PLAIN_JSON.has(type)) return req.headers['transfer-encoding'] !== undefined || !isNaN(req.headers['content-length'] as unknown as number);
  return typeof ctx.is('application/json', '+json') === 'string';
}
const isMultipart = (ctx: FlowContext) => typeof ctx.is('multipart/form-data') === 'string';

/** Parses a multipart body (Node's built-in undici FormData parser). 400 on a malformed body. */
export async function readMultipart(ctx: FlowContext, limit: number, limitKey?: string): Promise<FormData> {
  if (!isMultipart(ctx)) throw badRequest("request Content-Type isn't multipart/form-data");
  const raw = await readRawBody(ctx, limit, limitKey);
  try {
    return await new Response(raw, { headers: { 'content-type': ctx.get('content-type') } }).formData();
  } catch (err) {
    throw badRequest(`malformed multipart body: ${(err as Error).message}`);
  }
}

/**
 * Named, typed access to request fields with Gin-binding semantics: JSON values must have the
 * right type; form and query values are strings and get converted. Error texts follow Gotify
 * ("Field 'message' is required").
 */
export class Fields {
  private readonly data: Map<string, unknown>;

  constructor(
    /** 'json' when the body was JSON (only then can `extras`-style objects be given). */
    readonly kind: 'json' | 'form',
    data: Record<string, unknown>,
  ) {
    this.data = kind === 'json' ? foldKeys(data) : new Map(Object.entries(data));
  }

  private raw(name: string): unknown {
    const v = this.data.get(this.kind === 'json' ? name.toLowerCase() : name);
    return v === null ? undefined : v;
  }

  string(name: string, opts: { required?: boolean } = {}): string | undefined {
    const v = this.raw(name);
    if (v !== undefined && typeof v !== 'string') throw badRequest(`Field '${name}' must be a string`);
    if (opts.required && (v === undefined || v === '')) throw badRequest(`Field '${name}' is required`);
    return v;
  }

  int(name: string, opts: { min?: number; max?: number } = {}): number | undefined {
    let v = this.raw(name);
    if (this.kind === 'form' && typeof v === 'string') {
      // Gin's setIntField: a present but empty value is 0, not "absent" (`priority=` → 0, not
      // the app's defaultPriority; `?limit=` → 400 below min 1), as Gotify answers.
      const text = v.trim() === '' ? '0' : v;
      if (!/^\s*[-+]?\d+\s*$/.test(text)) throw badRequest(`Field '${name}' must be an integer`);
      v = Number(text);
    }
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw badRequest(`Field '${name}' must be an integer`);
    if (opts.min !== undefined && v < opts.min) throw badRequest(`Field '${name}' must be more or equal to ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) throw badRequest(`Field '${name}' must be less or equal to ${opts.max}`);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.raw(name);
    if (this.kind === 'form' && typeof v === 'string') {
      if (v === '') return undefined;
      // Go's strconv.ParseBool, which Gin's form binding uses.
      if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
      if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
      throw badRequest(`Field '${name}' must be a boolean`);
    }
    if (v !== undefined && typeof v !== 'boolean') throw badRequest(`Field '${name}' must be a boolean`);
    return v;
  }

  /** A JSON object field; absent for form bodies (Gotify ignores `extras` there). */
  object(name: string): Record<string, unknown> | undefined {
    if (this.kind !== 'json') return undefined;
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Field '${name}' must be an object`);
    return v as Record<string, unknown>;
  }
}

/**
 * Go's encoding/json matches object keys to struct fields case-insensitively, so Gotify takes
 * `{"Message":"…","Priority":5}` as sent by senders serialising PascalCase classes (.NET's
 * Newtonsoft and System.Text.Json defaults). As there, the last matching key wins; a null
 * leaves the field as it was.
 */
function foldKeys(data: Record<string, unknown>): Map<string, unknown> {
  const folded = new Map<string, unknown>();
  for (const [k, v] of Object.entries(data)) if (v !== null) folded.set(k.toLowerCase(), v);
  return folded;
}

function formFields(params: Iterable<[string, unknown]>, into: Record<string, unknown>): void {
  for (const [k, v] of params) {
    // Gin's Form.Get returns the first value; body values precede query values.
    if (typeof v === 'string' && !(k in into)) into[k] = v;
  }
}

/**
 * Reads the request's fields, as Gin's `ctx.Bind`: a JSON body when Content-Type is JSON, the
 * parts of a multipart body, otherwise urlencoded body fields merged with the query string
 * (body first). Malformed JSON → 400; oversized → 413.
 */
export async function readFields(ctx: FlowContext, limit: number): Promise<Fields> {
  if (isJson(ctx)) {
    const raw = await readRawBody(ctx, limit);
    let parsed: unknown;
    try {
      // Nesting is bounded before parsing (400): deep extras would overflow the stack later.
      parsed = parseJsonBounded(raw.toString('utf8'), { what: 'JSON body' });
    } catch (err) {
      if (err instanceof DocumentTooLarge) throw badRequest(err.message);
      throw badRequest(`malformed JSON body: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw badRequest('malformed JSON body: expected a JSON object');
    }
    return new Fields('json', parsed as Record<string, unknown>);
  }
  const data: Record<string, unknown> = {};
  if (isMultipart(ctx)) {
    // Gin's multipart binding reads the parts only: `curl -F message=… "…?title=…"` loses the title.
    formFields((await readMultipart(ctx, limit)).entries(), data);
    return new Fields('form', data);
  }
  const raw = await readRawBody(ctx, limit);
  if (raw.length > 0) formFields(new URLSearchParams(raw.toString('utf8')), data);
  formFields(new URLSearchParams(ctx.querystring), data);
  return new Fields('form', data);
}

/** Query-string fields only (GET paging). */
export function queryFields(ctx: FlowContext): Fields {
  const data: Record<string, unknown> = {};
  formFields(new URLSearchParams(ctx.querystring), data);
  return new Fields('form', data);
}
