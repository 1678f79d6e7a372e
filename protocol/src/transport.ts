import {
  AbstractMessageReader,
  AbstractMessageWriter,
  Disposable,
  type DataCallback,
  type Message,
  type MessageReader,
  type MessageWriter,
} from 'vscode-jsonrpc/node';
import { ErrorCodes } from './errors.js';
import { FrameDecoder, FramingError, checkMessageShape, encodeFrameString } from './framing.js';

/**
 * vscode-jsonrpc MessageReader/MessageWriter over Node streams, speaking the framing of
 * framing.ts. Drop-in replacements for StreamMessageReader/StreamMessageWriter with:
 * - a frame size limit and recovery from garbage (the stock reader has neither);
 * - one stream write per batch of messages instead of two writes per message behind a
 *   semaphore, which is where most of the stock writer's time goes (bench/protocol);
 * - write errors reported through onError and rejected promises that never surface as
 *   unhandled rejections (microsoft/vscode-languageserver-node PR #1855).
 */

export interface FramedReaderOptions {
  /** Largest frame body accepted (HostLimits.maxFrameBytes). Default DEFAULT_MAX_FRAME_BYTES. */
  maxFrameBytes?: number;
  /**
   * After how long a frame that started but did not finish raises onPartialMessage, in ms.
   * Default 10 000, as vscode-jsonrpc.
   */
  partialMessageTimeoutMs?: number;
}

/**
 * Reads frames from a readable stream (a child's stdout, or process.stdin in a plugin).
 *
 * Events: every FramingError (garbage, oversized frame, invalid JSON, not JSON-RPC) is
 * fired through onError and the reader keeps reading; onClose fires once when the stream
 * ends or closes; a stream that ends in the middle of a frame fires one error first.
 * Use createStreamTransport to also answer the errors that deserve a response.
 */
export class FramedMessageReader extends AbstractMessageReader implements MessageReader {
  private readonly readable: NodeJS.ReadableStream;
  private readonly decoder: FrameDecoder;
  private readonly partialMessageTimeoutMs: number;
  private callback: DataCallback | undefined;
  private closed = false;
  private partialTimer: NodeJS.Timeout | undefined;
  private partialToken = 0;
  private partialSince = 0;
  private readonly listeners: Array<[string, (...args: never[]) => void]> = [];

  constructor(readable: NodeJS.ReadableStream, options: FramedReaderOptions = {}) {
    super();
    this.readable = readable;
    this.partialMessageTimeoutMs = options.partialMessageTimeoutMs ?? 10_000;
    this.decoder = new FrameDecoder(
      {
        message: (value) => {
          const problem = checkMessageShape(value);
          if (problem) return this.fireError(problem);
          try {
            this.callback!(value as Message);
          } catch (error) {
            // A throwing consumer must not abort decoding of the frames behind this one.
            this.fireError(error);
          }
        },
        error: (error) => this.fireError(error),
      },
      options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes },
    );
  }

  /** The limit this reader enforces. */
  get maxFrameBytes(): number {
    return this.decoder.maxFrameBytes;
  }

  /** Starts reading. To be called at most once, as MessageReader requires. */
  listen(callback: DataCallback): Disposable {
    if (this.callback) throw new Error('FramedMessageReader.listen may be called only once');
    this.callback = callback;
    this.on('data', (chunk: Buffer | string) => {
      this.decoder.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      this.trackPartial();
    });
    this.on('error', (error: Error) => this.fireError(error));
    this.on('end', () => this.close());
    this.on('close', () => this.close());
    return Disposable.create(() => this.stop());
  }

  /** Stops listening; does not close the stream. Safe to call twice. */
  override dispose(): void {
    this.stop();
    super.dispose();
  }

  private on(event: string, listener: (...args: never[]) => void): void {
    this.readable.on(event, listener as (...args: unknown[]) => void);
    this.listeners.push([event, listener]);
  }

  private stop(): void {
    for (const [event, listener] of this.listeners.splice(0)) this.readable.removeListener(event, listener as (...args: unknown[]) => void);
    this.clearPartialTimer();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearPartialTimer();
    if (this.decoder.hasPartialFrame) {
      this.fireError(new FramingError(`The stream ended in the middle of a frame (${this.decoder.bufferedBytes} bytes buffered)`, ErrorCodes.ParseError, false));
    }
    this.fireClose();
  }

  /** vscode-jsonrpc's onPartialMessage contract: a timer that only runs while a frame is incomplete. */
  private trackPartial(): void {
    if (!this.decoder.hasPartialFrame) {
      this.clearPartialTimer();
      return;
    }
    if (this.partialTimer) return;
    this.partialToken++;
    this.partialSince = Date.now();
    const token = this.partialToken;
    const arm = (): void => {
      this.partialTimer = setTimeout(() => {
        this.partialTimer = undefined;
        if (token !== this.partialToken || !this.decoder.hasPartialFrame) return;
        this.firePartialMessage({ messageToken: token, waitingTime: Date.now() - this.partialSince });
        arm();
      }, this.partialMessageTimeoutMs);
      this.partialTimer.unref();
    };
    arm();
  }

  private clearPartialTimer(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
  }
}

/**
 * Writes frames to a writable stream (a child's stdin, or process.stdout in a plugin).
 *
 * Every message written before the event loop's next check phase goes out in ONE
 * `stream.write` (setImmediate), so 64 requests sent in a loop, or the responses a burst
 * of requests produces, cost one syscall instead of 128. Order is preserved. Messages
 * are serialised at `write()` time, so later mutation of the object does not leak into
 * the frame and a non-serialisable message rejects at once.
 *
 * `write()` promises resolve when the stream accepted the batch. After the stream failed
 * or closed, writes reject and fire onError; the returned promises are marked handled,
 * so a caller that ignores them (vscode-jsonrpc does for notifications) cannot cause an
 * unhandledRejection.
 */
export class FramedMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private readonly writable: NodeJS.WritableStream;
  private queue: string[] = [];
  private batch: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | undefined;
  private scheduled = false;
  private failure: Error | undefined;
  private errorCount = 0;
  private readonly onStreamError = (error: Error): void => this.fail(error);
  private readonly onStreamClose = (): void => {
    this.fail(new Error('The stream was closed'));
    this.fireClose();
  };

  constructor(writable: NodeJS.WritableStream) {
    super();
    this.writable = writable;
    writable.on('error', this.onStreamError);
    writable.on('close', this.onStreamClose);
  }

  write(message: Message): Promise<void> {
    if (this.failure) return this.rejected(this.failure, message);
    let frame: string;
    try {
      frame = encodeFrameString(message);
    } catch (error) {
      return this.rejected(error as Error, message);
    }
    this.queue.push(frame);
    if (!this.batch) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => undefined);
      this.batch = { promise, resolve, reject };
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
    return this.batch.promise;
  }

  /** Writes what is queued now instead of at the next check phase. Safe to call any time. */
  readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.batch;
    if (!batch) return;
    const frames = this.queue;
    this.queue = [];
    this.batch = undefined;
    if (this.failure) {
      batch.reject(this.failure);
      return;
    }
    const data = frames.length === 1 ? frames[0]! : frames.join('');
    try {
      this.writable.write(data, 'utf8', (error?: Error | null) => {
        if (error) {
          this.fail(error);
          batch.reject(error);
        } else {
          this.errorCount = 0;
          batch.resolve();
        }
      });
    } catch (error) {
      this.fail(error as Error);
      batch.reject(error as Error);
    }
  };

  /** Flushes, then ends the stream (the peer sees EOF). Safe to call twice. */
  end(): void {
    this.flush();
    if (!this.failure) this.writable.end();
  }

  override dispose(): void {
    this.writable.removeListener('error', this.onStreamError);
    this.writable.removeListener('close', this.onStreamClose);
    super.dispose();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.fireError(error, undefined, ++this.errorCount);
  }

  private rejected(error: Error, message: Message): Promise<void> {
    this.fireError(error, message, ++this.errorCount);
    const promise = Promise.reject(error);
    promise.catch(() => undefined);
    return promise;
  }
}

export interface StreamTransport {
  reader: FramedMessageReader;
  writer: FramedMessageWriter;
}

/**
 * A reader and a writer for one peer, wired so that every incoming frame that deserves
 * an answer gets one: invalid JSON → ParseError with `id: null`, a message that is not
 * JSON-RPC → InvalidRequest, an oversized request → FrameTooLarge to its id. Pass both to
 * `createMessageConnection(reader, writer, logger, { maxParallelism })`, or use them
 * directly.
 */
export function createStreamTransport(
  readable: NodeJS.ReadableStream,
  writable: NodeJS.WritableStream,
  options: FramedReaderOptions = {},
): StreamTransport {
  const reader = new FramedMessageReader(readable, options);
  const writer = new FramedMessageWriter(writable);
  reader.onError((error) => {
    if (error instanceof FramingError && error.respond) void writer.write(error.toResponse() as Message);
  });
  return { reader, writer };
}
