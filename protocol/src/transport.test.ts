import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createMessageConnection, type Message } from 'vscode-jsonrpc/node';
import { ErrorCodes } from './errors.js';
import { FramingError, encodeFrame } from './framing.js';
import { FramedMessageReader, FramedMessageWriter, createStreamTransport } from './transport.js';
import { waitFor } from '../../test/helpers/wait.js';

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

/** `cat`: a real process whose stdout returns every byte written to its stdin. */
function loopback(): ChildProcessWithoutNullStreams {
  const child = spawn('cat', [], { stdio: 'pipe' });
  children.push(child);
  return child;
}

function collect(reader: FramedMessageReader) {
  const messages: Message[] = [];
  const errors: Error[] = [];
  let wake: () => void = () => undefined;
  reader.onError((error) => {
    errors.push(error);
    wake();
  });
  reader.listen((message) => {
    messages.push(message);
    wake();
  });
  const until = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      if (done()) return resolve();
      wake = () => done() && resolve();
    });
  return { messages, errors, until };
}

describe('FramedMessageWriter', () => {
  it('sends every message of one tick in a single stream write, in order', async () => {
    const child = loopback();
    const writes: Buffer[] = [];
    const write = child.stdin.write.bind(child.stdin) as (...args: unknown[]) => boolean;
    child.stdin.write = ((data: string, ...rest: unknown[]) => {
      writes.push(Buffer.from(data));
      return write(data, ...rest);
    }) as typeof child.stdin.write;
    const writer = new FramedMessageWriter(child.stdin);
    const reader = new FramedMessageReader(child.stdout);
    const { messages, until } = collect(reader);
    const sent = Array.from({ length: 64 }, (_, i) => ({ jsonrpc: '2.0' as const, id: i, method: 'ping', params: {} }));
    await Promise.all(sent.map((m) => writer.write(m)));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toEqual(Buffer.concat(sent.map((m) => encodeFrame(m))));
    await until(() => messages.length === 64);
    expect(messages).toEqual(sent);
  });

  it('rejects writes after the peer died, fires onError, and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const child = spawn('true', [], { stdio: 'pipe' });
      await new Promise((resolve) => child.on('exit', resolve));
      const writer = new FramedMessageWriter(child.stdin);
      const errors: Error[] = [];
      writer.onError(([error]) => errors.push(error));
      // Ignored promises, the way vscode-jsonrpc treats notifications.
      for (let i = 0; i < 3; i++) void writer.write({ jsonrpc: '2.0', method: 'log/write', params: { i } } as Message);
      await expect(writer.write({ jsonrpc: '2.0', id: 1, method: 'ping' } as Message)).rejects.toThrow();
      await waitFor(() => errors.length > 0, 'onError');
      // One more turn of the event loop: Node reports unhandled rejections after the microtasks.
      await new Promise((resolve) => setImmediate(resolve));
      expect(errors.length).toBeGreaterThan(0);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('rejects a message JSON cannot encode without breaking the stream', async () => {
    const child = loopback();
    const writer = new FramedMessageWriter(child.stdin);
    const { messages, until } = collect(new FramedMessageReader(child.stdout));
    const cyclic: Record<string, unknown> = { jsonrpc: '2.0', method: 'x' };
    cyclic.params = cyclic;
    await expect(writer.write(cyclic as unknown as Message)).rejects.toThrow(TypeError);
    await writer.write({ jsonrpc: '2.0', method: 'after', params: {} } as Message);
    await until(() => messages.length === 1);
    expect(messages).toEqual([{ jsonrpc: '2.0', method: 'after', params: {} }]);
  });
});

describe('FramedMessageReader', () => {
  it('reports garbage, an oversized frame and bad JSON, delivering the good frames around them', async () => {
    const child = loopback();
    const { messages, errors, until } = collect(new FramedMessageReader(child.stdout, { maxFrameBytes: 1024 }));
    child.stdin.write('debug: plugin starting\n');
    child.stdin.write(encodeFrame({ jsonrpc: '2.0', id: 1, method: 'ping' }));
    child.stdin.write(encodeFrame({ jsonrpc: '2.0', id: 2, method: 'webhook/request', params: { body: 'A'.repeat(100_000) } }));
    child.stdin.write('Content-Length: 5\r\n\r\nnope!');
    child.stdin.write(encodeFrame({ jsonrpc: '2.0', id: 3, method: 'ping' }));
    await until(() => messages.length === 2 && errors.length === 3);
    expect(messages.map((m) => (m as unknown as { id: number }).id)).toEqual([1, 3]);
    expect(errors.map((e) => (e as FramingError).code)).toEqual([ErrorCodes.ParseError, ErrorCodes.FrameTooLarge, ErrorCodes.ParseError]);
  });

  it('carries a 6 MiB message under the default 8 MiB limit, byte for byte', async () => {
    const child = loopback();
    const writer = new FramedMessageWriter(child.stdin);
    const { messages, errors, until } = collect(new FramedMessageReader(child.stdout));
    const body = Buffer.alloc(6 * 1024 * 1024 * 0.75, 0xa7).toString('base64');
    const message = { jsonrpc: '2.0' as const, id: 1, method: 'webhook/request', params: { body } };
    await writer.write(message);
    await writer.write({ jsonrpc: '2.0', id: 2, method: 'ping', params: {} } as Message);
    await until(() => messages.length === 2);
    expect(errors).toEqual([]);
    expect(messages[0]).toEqual(message);
  });

  it('keeps decoding when the consumer throws, and reports the throw', async () => {
    const child = loopback();
    const reader = new FramedMessageReader(child.stdout);
    const errors: Error[] = [];
    const ids: number[] = [];
    reader.onError((error) => errors.push(error));
    reader.listen((message) => {
      ids.push((message as unknown as { id: number }).id);
      if (ids.length === 1) throw new Error('consumer bug');
    });
    child.stdin.write(Buffer.concat([1, 2, 3].map((id) => encodeFrame({ jsonrpc: '2.0', id, method: 'ping' }))));
    await waitFor(() => ids.length === 3, 'three messages');
    expect(ids).toEqual([1, 2, 3]);
    expect(errors.map((e) => e.message)).toEqual(['consumer bug']);
  });

  it('raises onPartialMessage while a frame stays incomplete, and delivers it once the rest arrives', async () => {
    const child = loopback();
    const reader = new FramedMessageReader(child.stdout, { partialMessageTimeoutMs: 20 });
    const { messages, until } = collect(reader);
    const partial = new Promise<number>((resolve) => reader.onPartialMessage((info) => resolve(info.messageToken)));
    const frame = encodeFrame({ jsonrpc: '2.0', id: 1, method: 'ping' });
    child.stdin.write(frame.subarray(0, 30));
    expect(await partial).toBe(1);
    child.stdin.write(frame.subarray(30));
    await until(() => messages.length === 1);
    expect(messages).toEqual([{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
  });

  it('fires one error for a stream that ends mid-frame, then onClose', async () => {
    const child = loopback();
    const reader = new FramedMessageReader(child.stdout);
    const { errors } = collect(reader);
    const closed = new Promise<void>((resolve) => reader.onClose(() => resolve()));
    child.stdin.end(encodeFrame({ jsonrpc: '2.0', id: 1, method: 'ping' }).subarray(0, 30));
    await closed;
    expect(errors.map((e) => e.message)).toEqual(['The stream ended in the middle of a frame (30 bytes buffered)']);
  });
});

describe('createStreamTransport', () => {
  it('answers bad frames with the exact error responses on the wire', async () => {
    // Our transport reads from cat A and answers into cat B, whose bytes we read raw.
    const incoming = loopback();
    const outgoing = loopback();
    const { reader } = createStreamTransport(incoming.stdout, outgoing.stdin, { maxFrameBytes: 64 });
    reader.listen(() => undefined);
    const raw: Buffer[] = [];
    outgoing.stdout.on('data', (chunk: Buffer) => raw.push(chunk));
    incoming.stdin.write('Content-Length: 3\r\n\r\n{x}');
    incoming.stdin.write(encodeFrame([{ jsonrpc: '2.0', id: 1, method: 'ping' }]));
    incoming.stdin.write(encodeFrame({ jsonrpc: '2.0', id: 9, method: 'kv/set', params: { value: 'v'.repeat(100) } }));
    const expected = [
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Frame body is not valid JSON: ',
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Batches are not supported: send one message per frame"}}',
      '{"jsonrpc":"2.0","id":9,"error":{"code":1010,"message":"Frame of 164 bytes is over the limit of 64 bytes; it was skipped","data":{"limitBytes":64,"frameBytes":164}}}',
    ];
    await waitFor(() => Buffer.concat(raw).toString().includes('"id":9'), 'the answer to id 9');
    const text = Buffer.concat(raw).toString();
    for (const part of expected) expect(text).toContain(part);
    expect(text.startsWith('Content-Length: ')).toBe(true);
  });

  it('carries a vscode-jsonrpc connection to a peer using the stock reader and writer, both directions', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('../test-fixtures/stock-server.mjs', import.meta.url))], { stdio: 'pipe' });
    children.push(child);
    const { reader, writer } = createStreamTransport(child.stdout, child.stdin);
    const connection = createMessageConnection(reader, writer, undefined, { maxParallelism: 1024 });
    connection.onRequest('host/answer', (params: { n: number }) => params.n * 2);
    connection.listen();
    const text = 'unicode ✓ and a long string '.repeat(2000);
    const echoes = await Promise.all(Array.from({ length: 64 }, (_, n) => connection.sendRequest('echo', { n, text })));
    expect(echoes.map((e) => (e as { n: number }).n)).toEqual(Array.from({ length: 64 }, (_, n) => n));
    expect((echoes[5] as { text: string }).text).toBe(text);
    expect(await connection.sendRequest('callBack', { n: 21 })).toEqual({ fromHost: 42 });
    connection.dispose();
  });
});
