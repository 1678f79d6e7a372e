import { ErrorCodes } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES } from './limits.js';

/**
 * The wire framing of protocol v1 (spec/protocol.md, "Transport and framing"): LSP's
 * base protocol.
 *
 *     Content-Length: <N>\r\n
 *     [Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n]
 *     \r\n
 *     <N bytes of UTF-8 JSON>
 *
 * The decoder is written for a peer that misbehaves: a plugin that prints to stdout, a
 * truncated frame, a frame over the limit. None of these throws; each becomes one
 * FramingError event and decoding continues at the next frame. See
 * hashicorp/go-plugin#164 and microsoft/vscode-languageserver-node#1305 for how often
 * stray stdout output happens in practice.
 */

/** A JSON-RPC id as it can appear on the wire. */
export type WireId = number | string | null;

/**
 * One problem found while decoding the incoming byte stream. It never ends the stream.
 *
 * `code` is the JSON-RPC code the receiver answers with when `respond` is set
 * (ParseError, InvalidRequest, FrameTooLarge); header garbage has no frame to answer and
 * only `respond: false`.
 */
export class FramingError extends Error {
  override readonly name = 'FramingError';
  constructor(
    message: string,
    /** A code from ErrorCodes. */
    readonly code: number,
    /** Whether the receiver sends an error response (to `id`) for it. */
    readonly respond: boolean,
    /** The id of the request the frame carried (or, with `respond` false, of an oversized response), when it could be read; otherwise null. */
    readonly id: WireId = null,
    /** Error data for the response (`{ limitBytes, frameBytes }` for FrameTooLarge). */
    readonly data?: unknown,
  ) {
    super(message);
  }

  /** The JSON-RPC error response a receiver writes back for this error. */
  toResponse(): { jsonrpc: '2.0'; id: WireId; error: { code: number; message: string; data?: unknown } } {
    const error: { code: number; message: string; data?: unknown } = { code: this.code, message: this.message };
    if (this.data !== undefined) error.data = this.data;
    return { jsonrpc: '2.0', id: this.id, error };
  }
}

/**
 * Encodes one message as a complete frame (header and body in one Buffer). For tests,
 * examples and tools; the stream writer batches frames itself.
 */
export function encodeFrame(message: unknown): Buffer {
  const body = JSON.stringify(message);
  if (body === undefined) throw new TypeError('encodeFrame: the message is not JSON-serialisable');
  const length = Buffer.byteLength(body, 'utf8');
  const header = `Content-Length: ${length}\r\n\r\n`;
  const frame = Buffer.allocUnsafe(header.length + length);
  frame.write(header, 0, 'latin1');
  frame.write(body, header.length, 'utf8');
  return frame;
}

/** The frame text for one message, header included, as a JS string (the writer joins these). */
export function encodeFrameString(message: unknown): string {
  const body = JSON.stringify(message);
  if (body === undefined) throw new TypeError('encodeFrame: the message is not JSON-serialisable');
  return `Content-Length: ${Buffer.byteLength(body, 'utf8')}\r\n\r\n${body}`;
}

export interface FrameDecoderOptions {
  /** Largest body accepted, in bytes. Default DEFAULT_MAX_FRAME_BYTES (8 MiB). */
  maxFrameBytes?: number;
}

export interface FrameDecoderHandlers {
  /**
   * A frame whose body parsed as JSON. The value is not checked for JSON-RPC shape here.
   * Should not throw; if it does, the decoder reports it through `error` and carries on.
   */
  message(value: unknown): void;
  /** A framing, size or JSON problem. Decoding has already resumed when this runs. */
  error(error: FramingError): void;
}

const CRLF = Buffer.from('\r\n', 'latin1');
const NEWLINE = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
/** A header block longer than this is garbage: real ones are under 100 bytes. */
const MAX_HEADER_BYTES = 4096;
/** How much of an oversized body is kept to look for its request id. */
const ID_SNIFF_BYTES = 512;
const MARKER = 'content-length:';
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;
const TOKEN_CHAR = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*$/;

type HeaderResult =
  | { kind: 'incomplete' }
  | { kind: 'garbage' }
  | { kind: 'invalid'; end: number; reason: string }
  | { kind: 'unsupported'; end: number; length: number; reason: string }
  | { kind: 'ok'; end: number; length: number };

/**
 * Incremental decoder: feed it chunks as they arrive, in order, of any size. Frames
 * split across chunks, several frames in one chunk, and garbage between frames are all
 * handled. Small frames in one chunk are decoded without copying the chunk.
 *
 * Recovery rules (the spec's "Robustness" section):
 * - bytes that cannot start a header (stray output) → one error per run of garbage, then
 *   decoding restarts at the next `Content-Length:` (case-insensitive);
 * - a header block without a valid Content-Length → one error, same resynchronisation;
 * - Content-Length over the limit → FrameTooLarge, the body is skipped unread (only its
 *   first bytes are kept to find the request id, so the sender gets an answer);
 * - a body that is not JSON → ParseError with id null.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  private readonly handlers: FrameDecoderHandlers;
  /** Unconsumed bytes, oldest first. Kept as a list so a large body is concatenated once. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Bytes needed in `parts` before decoding can progress (0: try with whatever is there). */
  private needed = 0;
  /** Body bytes of an oversized frame still to be dropped. */
  private skipRemaining = 0;
  private skipFrameBytes = 0;
  private sniff: Buffer[] = [];
  private sniffBytes = 0;
  private resyncing = false;

  constructor(handlers: FrameDecoderHandlers, options: FrameDecoderOptions = {}) {
    this.handlers = handlers;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** True while part of a frame (or an oversized frame being skipped) is buffered. */
  get hasPartialFrame(): boolean {
    return this.skipRemaining > 0 || (this.partsBytes > 0 && !this.resyncing);
  }

  /** Bytes buffered and not yet decoded. */
  get bufferedBytes(): number {
    return this.partsBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.skipRemaining > 0) {
      chunk = this.skip(chunk);
      if (chunk.length === 0) return;
    }
    this.parts.push(chunk);
    this.partsBytes += chunk.length;
    if (this.partsBytes < this.needed) return;
    const buffer = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsBytes);
    this.parts = [];
    this.partsBytes = 0;
    this.needed = 0;
    this.decode(buffer);
  }

  /**
   * Drops the body of an oversized frame from the front of `chunk`; returns what follows it.
   * The error is reported once the sniff window is full or the body ends, whichever is first.
   */
  private skip(chunk: Buffer): Buffer {
    const take = Math.min(chunk.length, this.skipRemaining);
    if (this.sniffBytes < ID_SNIFF_BYTES) {
      const keep = chunk.subarray(0, Math.min(take, ID_SNIFF_BYTES - this.sniffBytes));
      this.sniff.push(keep);
      this.sniffBytes += keep.length;
      if (this.sniffBytes === ID_SNIFF_BYTES || take === this.skipRemaining) this.reportTooLarge();
    }
    this.skipRemaining -= take;
    return chunk.subarray(take);
  }

  private reportTooLarge(): void {
    const head = Buffer.concat(this.sniff, this.sniffBytes).toString('utf8');
    this.sniff = [];
    this.sniffBytes = ID_SNIFF_BYTES; // reported: sniff no more for this frame
    const request = sniffRequestId(head);
    // An oversized response: its id (respond stays false) lets the receiver fail the pending
    // request at once instead of at its deadline.
    const response = request === undefined ? sniffResponseId(head) : undefined;
    this.handlers.error(
      new FramingError(
        `Frame of ${this.skipFrameBytes} bytes is over the limit of ${this.maxFrameBytes} bytes; it was skipped`,
        ErrorCodes.FrameTooLarge,
        // Only a request is answered: answering a response or a notification has no receiver.
        request !== undefined,
        request ?? response ?? null,
        { limitBytes: this.maxFrameBytes, frameBytes: this.skipFrameBytes },
      ),
    );
  }

  private decode(buffer: Buffer): void {
    let offset = 0;
    while (offset < buffer.length) {
      if (this.resyncing) {
        const next = findMarker(buffer, offset);
        if (next === -1) {
          // Keep a marker's worth of tail: "Content-Len" + "gth:" may straddle two chunks.
          const keepFrom = Math.max(offset, buffer.length - (MARKER.length - 1));
          this.keep(buffer.subarray(keepFrom), 0);
          return;
        }
        offset = next;
        this.resyncing = false;
      }
      const header = parseHeader(buffer, offset);
      switch (header.kind) {
        case 'incomplete':
          this.keep(buffer.subarray(offset), 0);
          return;
        case 'garbage':
          this.handlers.error(
            new FramingError(
              `Unexpected bytes where a frame header should start: ${preview(buffer, offset)}. Only frames may be written to the protocol stream (plugins log to stderr)`,
              ErrorCodes.ParseError,
              false,
            ),
          );
          this.resyncing = true;
          offset += 1;
          continue;
        case 'invalid':
          this.handlers.error(new FramingError(`Invalid frame header: ${header.reason}`, ErrorCodes.ParseError, false));
          this.resyncing = true;
          offset = header.end;
          continue;
        case 'unsupported':
        case 'ok': {
          if (header.length > this.maxFrameBytes) {
            this.skipFrameBytes = header.length;
            this.skipRemaining = header.length;
            this.sniff = [];
            this.sniffBytes = 0;
            const rest = this.skip(buffer.subarray(header.end));
            if (rest.length === 0) return;
            buffer = rest;
            offset = 0;
            continue;
          }
          const bodyEnd = header.end + header.length;
          if (bodyEnd > buffer.length) {
            this.keep(buffer.subarray(offset), bodyEnd - offset);
            return;
          }
          if (header.kind === 'unsupported') {
            this.handlers.error(new FramingError(`Unsupported frame: ${header.reason}`, ErrorCodes.ParseError, true));
            offset = bodyEnd;
          } else if (this.emitBody(buffer, header.end, bodyEnd)) {
            offset = bodyEnd;
          } else {
            // A half frame (its sender wrote less than Content-Length, then the next frame)
            // swallows the start of the next frame; resume at that frame's header if it is here.
            const next = findMarker(buffer, header.end);
            offset = next !== -1 && next < bodyEnd ? next : bodyEnd;
          }
          continue;
        }
      }
    }
  }

  /** Parses and delivers one body; false when it was not JSON (reported as ParseError). */
  private emitBody(buffer: Buffer, start: number, end: number): boolean {
    let value: unknown;
    try {
      value = JSON.parse(buffer.toString('utf8', start, end));
    } catch (error) {
      this.handlers.error(
        new FramingError(`Frame body is not valid JSON: ${(error as Error).message}`, ErrorCodes.ParseError, true),
      );
      return false;
    }
    try {
      this.handlers.message(value);
    } catch (error) {
      // A throwing handler must not lose the frames after this one in the same chunk.
      this.handlers.error(new FramingError(`The message handler threw: ${(error as Error)?.message ?? String(error)}`, ErrorCodes.InternalError, false));
    }
    return true;
  }

  private keep(rest: Buffer, needed: number): void {
    if (rest.length === 0) return;
    // A copy, so a small leftover does not pin a large chunk in memory.
    const copy = rest.length < 64 * 1024 ? Buffer.from(rest) : rest;
    this.parts = [copy];
    this.partsBytes = copy.length;
    this.needed = needed;
  }
}

/** Position of the next `content-length:` (any case) at or after `from`, or -1. */
function findMarker(buffer: Buffer, from: number): number {
  for (let i = from; i <= buffer.length - MARKER.length; i++) {
    const c = buffer[i]!;
    if (c !== 0x43 && c !== 0x63) continue; // C or c
    if (buffer.toString('latin1', i, i + MARKER.length).toLowerCase() === MARKER) return i;
  }
  return -1;
}

const FAST_PREFIX = Buffer.from('Content-Length: ', 'latin1');

/**
 * The header every Flow and vscode-jsonrpc sender writes, `Content-Length: N\r\n\r\n`,
 * parsed without creating strings; undefined means "use the general parser".
 */
function parseCommonHeader(buffer: Buffer, start: number): HeaderResult | undefined {
  const prefixEnd = start + FAST_PREFIX.length;
  if (buffer.length < prefixEnd + 5) return undefined;
  for (let i = 0; i < FAST_PREFIX.length; i++) if (buffer[start + i] !== FAST_PREFIX[i]) return undefined;
  let length = 0;
  let position = prefixEnd;
  for (; position < buffer.length && position - prefixEnd < 15; position++) {
    const digit = buffer[position]! - 0x30;
    if (digit < 0 || digit > 9) break;
    length = length * 10 + digit;
  }
  if (position === prefixEnd || position + 4 > buffer.length) return undefined;
  if (buffer[position] !== CR || buffer[position + 1] !== NEWLINE || buffer[position + 2] !== CR || buffer[position + 3] !== NEWLINE) return undefined;
  return { kind: 'ok', end: position + 4, length };
}

function parseHeader(buffer: Buffer, start: number): HeaderResult {
  const common = parseCommonHeader(buffer, start);
  if (common) return common;
  let position = start;
  let length = -1;
  let unsupported: string | undefined;
  for (;;) {
    const eol = buffer.indexOf(CRLF, position);
    if (eol === -1 || eol - start > MAX_HEADER_BYTES) {
      return plausiblePartialLine(buffer, position, start) ? { kind: 'incomplete' } : { kind: 'garbage' };
    }
    if (eol === position) {
      const end = eol + 2;
      if (position === start) return { kind: 'garbage' }; // a blank line is not a header
      if (length < 0) return { kind: 'invalid', end, reason: 'missing Content-Length' };
      return unsupported ? { kind: 'unsupported', end, length, reason: unsupported } : { kind: 'ok', end, length };
    }
    const line = buffer.toString('latin1', position, eol);
    const match = HEADER_LINE.exec(line);
    if (!match || line.includes('\n')) return { kind: 'garbage' };
    const name = match[1]!.toLowerCase();
    const value = match[2]!;
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) return { kind: 'invalid', end: eol + 2, reason: `Content-Length is not a byte count: "${value.slice(0, 40)}"` };
      length = Number(value);
    } else if (name === 'content-type') {
      const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(value)?.[1]?.toLowerCase();
      if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') unsupported = `charset "${charset}" (only utf-8 is allowed)`;
    }
    position = eol + 2;
  }
}

/**
 * Whether the bytes from `lineStart` to the end can still become a header line: a token
 * name, then a colon and a value without line breaks. Lets "hello" wait for more bytes
 * but reports "hello world\n" at once instead of waiting for a CRLF that never comes.
 */
function plausiblePartialLine(buffer: Buffer, lineStart: number, headerStart: number): boolean {
  if (buffer.length - headerStart > MAX_HEADER_BYTES) return false;
  if (buffer.indexOf(NEWLINE, lineStart) !== -1) return false;
  // A "\r" is allowed only as the very last byte: the first half of a CRLF still to come.
  const end = buffer[buffer.length - 1] === CR ? buffer.length - 1 : buffer.length;
  const cr = buffer.indexOf(CR, lineStart);
  if (cr !== -1 && cr < end) return false;
  const colon = buffer.indexOf(COLON, lineStart);
  const nameEnd = colon === -1 ? end : colon;
  return TOKEN_CHAR.test(buffer.toString('latin1', lineStart, nameEnd));
}

function preview(buffer: Buffer, offset: number): string {
  return JSON.stringify(buffer.toString('utf8', offset, Math.min(buffer.length, offset + 60)));
}

/**
 * The id of a request from the first bytes of its body, or undefined when the body is not
 * a request (no "method" before its end) or the id is not in the window. Senders put
 * `jsonrpc`, `id` and `method` before `params` (vscode-jsonrpc, plugin-kit, the spec's
 * SHOULD), which is what makes an oversized request answerable.
 */
function sniffRequestId(head: string): number | string | undefined {
  if (!/"method"\s*:/.test(head)) return undefined;
  const match = /"id"\s*:\s*(-?\d{1,15}|"(?:[^"\\]|\\.){0,200}")/.exec(head);
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]!) as number | string;
  } catch {
    return undefined;
  }
}

/**
 * The id of a response from the first bytes of its body. Only a leading id followed by
 * "result" or "error" is trusted (`{"jsonrpc":"2.0","id":5,"result":…`, the order every
 * JSON-RPC library writes): an "id" further on may belong to the result itself.
 */
function sniffResponseId(head: string): number | string | undefined {
  const match = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(-?\d{1,15}|"(?:[^"\\]|\\.){0,200}")\s*,\s*"(?:result|error)"\s*:/.exec(head);
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]!) as number | string;
  } catch {
    return undefined;
  }
}

/** What makes a decoded value a JSON-RPC 2.0 message the receiver can act on. */
export function checkMessageShape(value: unknown): FramingError | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new FramingError(
      Array.isArray(value) ? 'Batches are not supported: send one message per frame' : 'A message must be a JSON object',
      ErrorCodes.InvalidRequest,
      true,
    );
  }
  const message = value as Record<string, unknown>;
  const id = message.id;
  const validId = typeof id === 'number' || typeof id === 'string';
  if (message.jsonrpc !== '2.0') {
    return new FramingError('"jsonrpc" must be "2.0"', ErrorCodes.InvalidRequest, true, validId ? id : null);
  }
  if (typeof message.method === 'string') {
    if (id !== undefined && !validId) return new FramingError('"id" must be a number or a string', ErrorCodes.InvalidRequest, true);
    return undefined;
  }
  if (message.method !== undefined) return new FramingError('"method" must be a string', ErrorCodes.InvalidRequest, true, validId ? id : null);
  if ('result' in message || 'error' in message) return undefined;
  return new FramingError('Neither a request, a notification nor a response', ErrorCodes.InvalidRequest, true, validId ? id : null);
}
