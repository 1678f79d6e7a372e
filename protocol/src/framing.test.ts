import { describe, expect, it } from 'vitest';
import { ErrorCodes } from './errors.js';
import { FrameDecoder, FramingError, checkMessageShape, encodeFrame } from './framing.js';

function decoder(maxFrameBytes?: number) {
  const messages: unknown[] = [];
  const errors: FramingError[] = [];
  const d = new FrameDecoder(
    { message: (m) => messages.push(m), error: (e) => errors.push(e) },
    maxFrameBytes === undefined ? {} : { maxFrameBytes },
  );
  return { d, messages, errors };
}

const ping = { jsonrpc: '2.0', id: 1, method: 'ping', params: {} };

describe('encodeFrame', () => {
  it('writes the exact LSP header with the UTF-8 byte length', () => {
    expect(encodeFrame({ a: 'é' }).toString('latin1')).toBe('Content-Length: 10\r\n\r\n{"a":"\xc3\xa9"}');
    expect(encodeFrame(ping).toString('utf8')).toBe('Content-Length: 52\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}');
  });

  it('refuses a value JSON cannot represent', () => {
    expect(() => encodeFrame(undefined)).toThrow(TypeError);
  });
});

describe('FrameDecoder', () => {
  it('decodes a frame split at every byte position', () => {
    const bytes = Buffer.concat([encodeFrame(ping), encodeFrame({ jsonrpc: '2.0', id: 2, result: { text: 'ünïcode ✓' } })]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { d, messages, errors } = decoder();
      d.push(bytes.subarray(0, cut));
      d.push(bytes.subarray(cut));
      expect(errors).toEqual([]);
      expect(messages).toEqual([ping, { jsonrpc: '2.0', id: 2, result: { text: 'ünïcode ✓' } }]);
    }
  });

  it('decodes byte-by-byte input and many frames in one chunk', () => {
    const frames = Array.from({ length: 50 }, (_, i) => encodeFrame({ jsonrpc: '2.0', id: i, method: 'ping' }));
    const one = decoder();
    for (const byte of Buffer.concat(frames)) one.d.push(Buffer.from([byte]));
    expect(one.messages).toHaveLength(50);
    const all = decoder();
    all.d.push(Buffer.concat(frames));
    expect(all.messages.map((m) => (m as { id: number }).id)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('accepts Content-Type, any header case and extra headers', () => {
    const { d, messages, errors } = decoder();
    const body = JSON.stringify(ping);
    d.push(Buffer.from(`Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: ${body.length}\r\nX-Extra: 1\r\n\r\n${body}`));
    d.push(Buffer.from(`CONTENT-LENGTH:${body.length}\r\n\r\n${body}`));
    expect(errors).toEqual([]);
    expect(messages).toEqual([ping, ping]);
  });

  it('reports stray output once and resynchronises at the next Content-Length', () => {
    const { d, messages, errors } = decoder();
    d.push(Buffer.from('hello from a plugin that printed to stdout\nsecond line\n'));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.respond).toBe(false);
    expect(errors[0]!.message).toContain('"hello from a plugin');
    d.push(Buffer.concat([Buffer.from('more junk Content-Len'), Buffer.from('gth: 52\r\n\r\n'), encodeFrame(ping).subarray(22)]));
    expect(messages).toEqual([ping]);
    expect(errors).toHaveLength(1);
  });

  it('reports garbage that has no line end at once instead of waiting', () => {
    const { d, errors } = decoder();
    d.push(Buffer.from('{"jsonrpc":"2.0"'));
    expect(errors).toHaveLength(1);
  });

  it('reports a non-numeric or missing Content-Length and keeps decoding', () => {
    for (const [bad, reason] of [
      ['Content-Length: twelve\r\n\r\n{"x":1}', 'Content-Length is not a byte count: "twelve"'],
      ['Content-Type: application/vscode-jsonrpc\r\n\r\n{"y":2}', 'missing Content-Length'],
    ] as const) {
      const { d, messages, errors } = decoder();
      d.push(Buffer.from(bad));
      d.push(encodeFrame(ping));
      expect(errors.map((e) => e.message)).toEqual([`Invalid frame header: ${reason}`]);
      expect(messages).toEqual([ping]);
    }
  });

  it('skips a frame over the limit, answers its request id, and keeps working', () => {
    const { d, messages, errors } = decoder(1000);
    const big = encodeFrame({ jsonrpc: '2.0', id: 'req-7', method: 'webhook/request', params: { body: 'x'.repeat(5000) } });
    for (let i = 0; i < big.length; i += 333) d.push(big.subarray(i, i + 333));
    d.push(encodeFrame(ping));
    expect(messages).toEqual([ping]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.toResponse()).toEqual({
      jsonrpc: '2.0',
      id: 'req-7',
      error: {
        code: ErrorCodes.FrameTooLarge,
        message: `Frame of ${big.length - 24} bytes is over the limit of 1000 bytes; it was skipped`,
        data: { limitBytes: 1000, frameBytes: big.length - 24 },
      },
    });
  });

  it('does not answer an oversized response or notification', () => {
    const { d, errors } = decoder(100);
    d.push(encodeFrame({ jsonrpc: '2.0', id: 3, result: { data: 'x'.repeat(200) } }));
    d.push(encodeFrame({ jsonrpc: '2.0', method: 'log/write', params: { message: 'x'.repeat(200) } }));
    // The response's id is still reported, so its sender's pending call can fail at once.
    expect(errors.map((e) => [e.code, e.respond, e.id])).toEqual([
      [ErrorCodes.FrameTooLarge, false, 3],
      [ErrorCodes.FrameTooLarge, false, null],
    ]);
  });

  it('answers a well-framed body that is not JSON with ParseError and id null', () => {
    const { d, messages, errors } = decoder();
    d.push(Buffer.from('Content-Length: 9\r\n\r\n{"id": 1,'));
    d.push(encodeFrame(ping));
    expect(messages).toEqual([ping]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.toResponse()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
  });

  it('recovers the frame that a half frame swallowed', () => {
    const { d, messages, errors } = decoder();
    const second = { jsonrpc: '2.0', id: 2, method: 'ping', params: {} };
    // The sender promised 60 bytes, wrote 16, then wrote two whole frames.
    d.push(Buffer.concat([Buffer.from('Content-Length: 60\r\n\r\n{"jsonrpc":"2.0"'), encodeFrame(ping), encodeFrame(second)]));
    expect(errors.map((e) => [e.code, e.respond])).toEqual([[ErrorCodes.ParseError, true]]);
    expect(messages).toEqual([ping, second]);
  });

  it('refuses a charset other than UTF-8', () => {
    const { d, messages, errors } = decoder();
    d.push(Buffer.from('Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=latin1\r\n\r\n{}'));
    d.push(encodeFrame(ping));
    expect(errors.map((e) => e.message)).toEqual(['Unsupported frame: charset "latin1" (only utf-8 is allowed)']);
    expect(messages).toEqual([ping]);
  });

  it('reports a throwing message handler and still decodes the rest of the chunk', () => {
    const seen: number[] = [];
    const errors: FramingError[] = [];
    const d = new FrameDecoder({
      message: (m) => {
        seen.push((m as { id: number }).id);
        if (seen.length === 1) throw new Error('boom');
      },
      error: (e) => errors.push(e),
    });
    d.push(Buffer.concat([1, 2].map((id) => encodeFrame({ jsonrpc: '2.0', id, method: 'ping' }))));
    expect(seen).toEqual([1, 2]);
    expect(errors.map((e) => [e.code, e.message])).toEqual([[ErrorCodes.InternalError, 'The message handler threw: boom']]);
  });

  it('survives random garbage interleaved with frames', () => {
    const { d, messages } = decoder(4096);
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const sent: number[] = [];
    for (let i = 0; i < 200; i++) {
      // Garbage that ends in a newline, as stray prints do; CR/LF inside it are fine.
      const junk = Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
      if (junk.length) d.push(Buffer.concat([junk, Buffer.from('\n')]));
      d.push(encodeFrame({ jsonrpc: '2.0', id: i, method: 'ping' }));
      sent.push(i);
    }
    const got = messages.map((m) => (m as { id: number }).id);
    // Garbage may end in a prefix of "Content-Length:" and swallow one header; the rest arrive.
    expect(got.length).toBeGreaterThan(190);
    expect(got.every((id, i) => i === 0 || id > got[i - 1]!)).toBe(true);
  });
});

describe('checkMessageShape', () => {
  it('accepts requests, notifications and responses', () => {
    expect(checkMessageShape(ping)).toBeUndefined();
    expect(checkMessageShape({ jsonrpc: '2.0', method: 'initialized', params: {} })).toBeUndefined();
    expect(checkMessageShape({ jsonrpc: '2.0', id: 1, result: {} })).toBeUndefined();
    expect(checkMessageShape({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'x' } })).toBeUndefined();
  });

  it('answers InvalidRequest for everything else, to the id when one is readable', () => {
    expect(checkMessageShape([ping])?.toResponse()).toMatchObject({ id: null, error: { code: -32600 } });
    expect(checkMessageShape('ping')?.toResponse()).toMatchObject({ id: null, error: { code: -32600 } });
    expect(checkMessageShape({ jsonrpc: '1.0', id: 4, method: 'ping' })?.toResponse()).toMatchObject({ id: 4, error: { code: -32600 } });
    expect(checkMessageShape({ jsonrpc: '2.0', id: 5, method: 7 })?.toResponse()).toMatchObject({ id: 5, error: { code: -32600 } });
    expect(checkMessageShape({ jsonrpc: '2.0', id: {}, method: 'ping' })?.toResponse()).toMatchObject({ id: null });
  });
});
