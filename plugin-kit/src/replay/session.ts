import type { Readable, Writable } from 'node:stream';
import {
  Bindings,
  CANCEL_REQUEST_METHOD,
  ErrorCodes,
  FrameDecoder,
  Normaliser,
  encodeFrame,
  isMessageEntry,
  type MessageContext,
  type MessageEntry,
  type Transcript,
  type TranscriptEntry,
  type WireMessage,
} from '@flow/protocol';
import { describeDifferences, describeEntry, pretty } from './diff.js';

/** The side of the transcript this process plays; the other side is the live program under test. */
export type ReplayRole = 'host' | 'plugin';

/** Why a replay failed. `mismatch`..`garbage` are the live side's fault (exit 1). */
export interface ReplayFailure {
  kind: 'mismatch' | 'unexpected' | 'out-of-order' | 'timeout' | 'exited' | 'garbage';
  /** The transcript line the failure is about, when there is one. */
  line?: number;
  /** One paragraph, readable as is: names the line, method, instance, expected vs actual JSON. */
  message: string;
}

export interface ReplayResult {
  ok: boolean;
  failure?: ReplayFailure;
  /** Transcript entries played or matched. */
  steps: number;
  /** Entries in the transcript. */
  total: number;
  /** Plugin role: the transcript ends with the plugin exiting with this code. */
  exitCode?: number;
}

/** How the live side is reached. */
export interface ReplayWire {
  /** What the live side writes (its stdout, or the host's writes to a fake plugin's stdin). */
  input: Readable;
  /** Where we write to it. */
  output: Writable;
  /** Host role: resolves when the plugin process ends. */
  exited?: Promise<{ code: number | null; signal: string | null; spawnError?: string }>;
  /** The live side's recent stderr, quoted when it crashes or hangs. */
  stderrTail?: () => string[];
}

export interface ReplayOptions {
  role: ReplayRole;
  /** The longest wait for the live side's next expected move; then the replay fails naming the line. Default 5000. */
  stepTimeoutMs?: number;
}

interface Slot {
  entry: TranscriptEntry;
  index: number;
  ours: boolean;
  /** Instance the entry belongs to ("" for none): order is checked per instance. */
  key: string;
  /** Method of the message or of the request it answers. */
  method: string | undefined;
  /** For a response: the slot of the request it answers. */
  answers?: Slot;
  /** For a request: the slot of its recorded answer. */
  answer?: Slot;
  done: boolean;
  /** For a live request of the other side matched to this slot: the id it used. */
  liveId?: unknown;
}

const isCall = (m: WireMessage): boolean => typeof m.method === 'string';

/** The binding name of instance ids in DEFAULT_VOLATILE_RULES: it keys the per-instance order. */
const INSTANCE_BINDING = 'instanceId';

/**
 * Plays one side of a transcript against a live program and checks the other side's messages.
 *
 * Rules (spec/transcripts.md §Replay):
 * 1. Our messages are sent in transcript order per instance, each once every earlier message
 *    of the other side for the same instance (or for no instance) has been seen; a response
 *    is sent once its request arrived, with the live request's id.
 * 2. Their calls (requests, notifications) must arrive in transcript order per instance;
 *    global order across instances is free. They are compared after normalisation.
 * 3. Their responses are paired with our request by id, not by position: responses may come
 *    in any order.
 * 4. Every step has a deadline; silence, an exit, or bytes that are not frames fail the
 *    replay naming the transcript line that was expected.
 */
export async function replaySession(transcript: Transcript, wire: ReplayWire, options: ReplayOptions): Promise<ReplayResult> {
  const session = new ReplaySession(transcript, wire, options);
  return session.run();
}

class ReplaySession {
  private readonly slots: Slot[];
  private readonly normaliser: Normaliser;
  private readonly bindings = new Bindings();
  private readonly stepTimeoutMs: number;
  /** Our requests by the id we sent them with. */
  private readonly ourRequests = new Map<string, Slot>();
  /** Their live request ids → the slot they matched (for $/cancelRequest). */
  private readonly theirRequests = new Map<string, Slot>();
  private readonly ignored: Set<string>;
  private timer: NodeJS.Timeout | undefined;
  private finish!: (result: ReplayResult) => void;
  private finished = false;
  private inputEnded = false;

  constructor(
    private readonly transcript: Transcript,
    private readonly wire: ReplayWire,
    private readonly options: ReplayOptions,
  ) {
    this.normaliser = new Normaliser(transcript.header);
    this.stepTimeoutMs = options.stepTimeoutMs ?? 5_000;
    this.ignored = new Set(transcript.header.ignore ?? []);
    this.slots = this.classify(transcript.entries);
  }

  run(): Promise<ReplayResult> {
    const done = new Promise<ReplayResult>((resolve) => (this.finish = resolve));
    const decoder = new FrameDecoder(
      {
        message: (value) => this.onMessage(value),
        error: (error) => this.fail({ kind: 'garbage', line: this.waitingFor()?.entry.line, message: `the ${this.theirName} wrote something that is not a Content-Length frame: ${error.message}` }),
      },
      { maxFrameBytes: Number.MAX_SAFE_INTEGER },
    );
    this.wire.input.on('data', (chunk: Buffer) => {
      if (!this.finished) decoder.push(chunk);
    });
    this.wire.input.on('end', () => this.onInputEnd(decoder.hasPartialFrame));
    this.wire.input.on('error', () => this.onInputEnd(false));
    this.wire.output.on('error', () => undefined);
    this.wire.exited?.then((exit) => this.onExit(exit.code, exit.signal, exit.spawnError));
    this.pump();
    return done;
  }

  private get theirName(): string {
    return this.options.role === 'host' ? 'plugin' : 'host';
  }

  // -- classification --------------------------------------------------------------------

  private classify(entries: TranscriptEntry[]): Slot[] {
    const ourDir = this.options.role === 'host' ? 'send' : 'recv';
    const requests = new Map<string, Slot>();
    const slots: Slot[] = [];
    for (const [index, entry] of entries.entries()) {
      const slot: Slot = { entry, index, ours: false, key: '', method: undefined, done: false };
      if (isMessageEntry(entry)) {
        slot.ours = entry.dir === ourDir;
        const m = entry.msg;
        if (isCall(m)) {
          slot.method = m.method as string;
          slot.key = instanceOf(m);
          if ('id' in m) requests.set(`${entry.dir}:${JSON.stringify(m.id)}`, slot);
        } else {
          const request = requests.get(`${entry.dir === 'send' ? 'recv' : 'send'}:${JSON.stringify(m.id)}`);
          if (request) {
            slot.answers = request;
            request.answer = slot;
            slot.method = request.method;
            slot.key = request.key;
          }
        }
        // Ignored methods of the live side are not waited for (header `ignore`); their live
        // requests get stub answers, so the recorded answers are not played either.
        if (slot.method !== undefined && this.ignored.has(slot.method) && (!slot.ours || slot.answers?.ours === false)) slot.done = true;
      } else {
        // The host closes stdin; the plugin exits.
        slot.ours = entry.event === 'stdin-closed' ? this.options.role === 'host' : this.options.role === 'plugin';
      }
      slots.push(slot);
    }
    return slots;
  }

  // -- our side ---------------------------------------------------------------------------

  /** Sends every message of ours whose turn has come; finishes when everything is done. */
  private pump(): void {
    if (this.finished) return;
    let progressed = true;
    while (progressed && !this.finished) {
      progressed = false;
      for (const slot of this.slots) {
        if (slot.done || !slot.ours || !this.ready(slot)) continue;
        this.play(slot);
        progressed = true;
      }
    }
    if (this.finished) return;
    if (this.slots.every((slot) => slot.done)) {
      this.complete();
      return;
    }
    this.arm();
  }

  private ready(slot: Slot): boolean {
    if (slot.answers && !slot.answers.done) return false;
    for (const earlier of this.slots) {
      if (earlier.index >= slot.index) break;
      if (earlier.done) continue;
      if (slot.key === '' || earlier.key === '' || earlier.key === slot.key) return false;
    }
    return true;
  }

  private play(slot: Slot): void {
    slot.done = true;
    const entry = slot.entry;
    if (!isMessageEntry(entry)) {
      if (entry.event === 'stdin-closed') this.wire.output.end();
      else this.complete(entry.code ?? 1);
      return;
    }
    const context = this.context(slot);
    const message = this.normaliser.materialise(entry.msg, context, this.bindings) as WireMessage;
    if (slot.answers) message.id = slot.answers.liveId;
    else if (isCall(message) && 'id' in message) this.ourRequests.set(JSON.stringify(message.id), slot);
    this.wire.output.write(encodeFrame(message));
  }

  // -- their side -------------------------------------------------------------------------

  private onMessage(value: unknown): void {
    if (this.finished) return;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || (value as WireMessage).jsonrpc !== '2.0') {
      this.fail({ kind: 'garbage', line: this.waitingFor()?.entry.line, message: `the ${this.theirName} sent a frame that is not a JSON-RPC 2.0 message:\n${pretty(value)}` });
      return;
    }
    const message = value as WireMessage;
    if (isCall(message)) this.onCall(message);
    else this.onResponse(message);
    this.pump();
  }

  private onResponse(message: WireMessage): void {
    const request = this.ourRequests.get(JSON.stringify(message.id));
    if (!request) {
      this.fail({ kind: 'unexpected', line: this.waitingFor()?.entry.line, message: `the ${this.theirName} answered id ${JSON.stringify(message.id)}, which is no pending request of this replay:\n${pretty(message)}` });
      return;
    }
    this.ourRequests.delete(JSON.stringify(message.id));
    const expected = request.answer;
    if (request.method !== undefined && this.ignored.has(request.method)) return;
    if (!expected) {
      const where = describeSlot(request);
      this.fail({ kind: 'unexpected', line: request.entry.line, message: `${where}: the transcript has no answer to this request, but the ${this.theirName} answered:\n${pretty(message)}` });
      return;
    }
    this.match(expected, message);
  }

  private onCall(message: WireMessage): void {
    if (this.ignored.has(message.method as string)) {
      this.stub(message);
      return;
    }
    let compared = message;
    if (message.method === CANCEL_REQUEST_METHOD) {
      // Their cancel names their live id; the transcript names the recorded one.
      const target = this.theirRequests.get(JSON.stringify((message.params as { id?: unknown } | undefined)?.id));
      if (target && isMessageEntry(target.entry)) compared = { ...message, params: { id: target.entry.msg.id } };
    }
    const key = instanceOf(message);
    const pending = (k: string) => this.slots.filter((slot) => !slot.done && !slot.ours && slot.key === k && isMessageEntry(slot.entry) && isCall(slot.entry.msg));
    // Per instance, only the next expected call may match; which recorded instance a live id
    // stands for is learned from the first call that matches (a host picks its own ids).
    const heads = this.recordedKeys(key).flatMap((k) => pending(k).slice(0, 1));
    const head = heads.find((slot) => this.matches(slot, compared));
    if (head) {
      this.accept(head, message);
      return;
    }
    const first = heads.sort((a, b) => a.index - b.index)[0];
    if (!first) {
      const where = key === '' ? '' : ` for instance ${JSON.stringify(key)}`;
      this.fail({ kind: 'unexpected', line: this.waitingFor()?.entry.line, message: `the ${this.theirName} sent ${String(message.method)}${where}, which the transcript does not have (no more ${this.theirName} calls expected${where}):\n${pretty(message)}` });
      return;
    }
    const later = pending(first.key).slice(1).find((slot) => this.matches(slot, compared));
    if (later) {
      this.fail({
        kind: 'out-of-order',
        line: first.entry.line,
        message: `${describeSlot(first)}: expected this next, but the ${this.theirName} sent what the transcript has on line ${later.entry.line} first (order within an instance must be kept).\nexpected (line ${first.entry.line}):\n${pretty((first.entry as MessageEntry).msg)}\nactual:\n${pretty(message)}`,
      });
      return;
    }
    this.match(first, compared, message);
  }

  /**
   * The recorded instance keys a live instance id may stand for: the one it is bound to, else
   * (first sighting) the same id if the transcript has it unbound, else every unbound one.
   */
  private recordedKeys(live: string): string[] {
    if (live === '') return [''];
    const bound = this.bindings.recordedFor(INSTANCE_BINDING, live);
    if (bound.length > 0) return bound.filter((r): r is string => typeof r === 'string');
    const unbound = [...new Set(this.slots.map((slot) => slot.key))].filter((k) => k !== '' && !this.bindings.get(INSTANCE_BINDING, k));
    return unbound.includes(live) ? [live] : unbound;
  }

  /** An ignored method (header `ignore`): notifications pass, requests get the header's stub. */
  private stub(message: WireMessage): void {
    if (!('id' in message)) return;
    const stubs = this.transcript.header.stubs ?? {};
    const method = message.method as string;
    const answer = Object.hasOwn(stubs, method)
      ? { jsonrpc: '2.0', id: message.id, result: stubs[method] }
      : { jsonrpc: '2.0', id: message.id, error: { code: ErrorCodes.MethodNotFound, message: `the transcript ignores ${method} and has no stub answer for it` } };
    this.wire.output.write(encodeFrame(answer));
  }

  private matches(slot: Slot, message: WireMessage): boolean {
    const entry = slot.entry as MessageEntry;
    return [entry.msg, ...(entry.accept ?? [])].some((expected) => this.normaliser.compare(expected, message, this.context(slot), this.bindings).length === 0);
  }

  /** Compares against the slot; marks it done or fails with a diff against the recorded message. */
  private match(slot: Slot, compared: WireMessage, shown: WireMessage = compared): void {
    if (this.matches(slot, compared)) {
      this.accept(slot, shown);
      return;
    }
    const entry = slot.entry as MessageEntry;
    const differences = this.normaliser.compare(entry.msg, compared, this.context(slot), this.bindings);
    const alternatives = entry.accept?.length ? ` (nor any of the ${entry.accept.length} alternatives the transcript accepts)` : '';
    this.fail({
      kind: 'mismatch',
      line: entry.line,
      message: `${describeSlot(slot)}: the ${this.theirName}'s message differs from the transcript${alternatives}\n${describeDifferences(differences)}\nexpected (line ${entry.line}):\n${pretty(entry.msg)}\nactual:\n${pretty(shown)}`,
    });
  }

  private accept(slot: Slot, live: WireMessage): void {
    slot.done = true;
    if (isCall(live) && 'id' in live) {
      slot.liveId = live.id;
      this.theirRequests.set(JSON.stringify(live.id), slot);
    }
    this.arm();
  }

  private onInputEnd(partial: boolean): void {
    if (this.finished || this.inputEnded) return;
    this.inputEnded = true;
    if (partial) {
      this.fail({ kind: 'garbage', line: this.waitingFor()?.entry.line, message: `the ${this.theirName}'s output ended in the middle of a frame` });
      return;
    }
    if (this.options.role === 'plugin') {
      // The host closed our stdin: either the transcript says so, or the session is over.
      const slot = this.slots.find((s) => !s.done && !s.ours && !isMessageEntry(s.entry) && s.entry.event === 'stdin-closed');
      if (slot && this.ready(slot)) {
        slot.done = true;
        this.pump();
      } else if (!this.slots.every((s) => s.done)) {
        const waiting = this.waitingFor();
        this.fail({ kind: 'exited', line: waiting?.entry.line, message: `${waiting ? describeSlot(waiting) : 'the transcript'}: the host closed the connection before this happened` });
      }
    }
  }

  private onExit(code: number | null, signal: string | null, spawnError?: string): void {
    if (this.finished) return;
    const slot = this.slots.find((s) => !s.done && !s.ours && !isMessageEntry(s.entry) && s.entry.event === 'exit');
    const how = spawnError ? `could not be started (${spawnError})` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (slot && this.ready(slot)) {
      const expected = (slot.entry as { code: number | null }).code;
      if (expected !== code) {
        this.fail({ kind: 'mismatch', line: slot.entry.line, message: `line ${slot.entry.line}: the plugin ${how}; the transcript has exit code ${expected}` });
        return;
      }
      slot.done = true;
      this.pump();
      return;
    }
    if (this.slots.every((s) => s.done)) return;
    const waiting = this.waitingFor();
    this.fail({ kind: 'exited', line: waiting?.entry.line, message: `${waiting ? describeSlot(waiting) : 'the transcript'}: the plugin ${how} before this happened${this.stderrNote()}` });
  }

  // -- deadlines and the end ----------------------------------------------------------------

  /** The earliest entry of theirs not seen yet: what the replay is waiting for. */
  private waitingFor(): Slot | undefined {
    return this.slots.find((slot) => !slot.done && !slot.ours) ?? this.slots.find((slot) => !slot.done);
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.finished) return;
    this.timer = setTimeout(() => {
      const waiting = this.waitingFor();
      this.fail({
        kind: 'timeout',
        line: waiting?.entry.line,
        message: `${waiting ? describeSlot(waiting) : 'the transcript'}: the ${this.theirName} did nothing for ${this.stepTimeoutMs} ms while this was expected (hung, or waiting for something the transcript does not have)${this.stderrNote()}`,
      });
    }, this.stepTimeoutMs);
  }

  private stderrNote(): string {
    const tail = this.wire.stderrTail?.() ?? [];
    return tail.length ? `\nlast lines of its stderr:\n${tail.map((line) => `  ${line}`).join('\n')}` : '';
  }

  private context(slot: Slot): MessageContext {
    return { dir: (slot.entry as MessageEntry).dir, method: slot.method };
  }

  private complete(exitCode?: number): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    const result: ReplayResult = { ok: true, steps: this.slots.length, total: this.slots.length };
    if (exitCode !== undefined) result.exitCode = exitCode;
    this.finish(result);
  }

  private fail(failure: ReplayFailure): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.finish({ ok: false, failure, steps: this.slots.filter((slot) => slot.done).length, total: this.slots.length });
  }
}

function instanceOf(message: WireMessage): string {
  const params = message.params as { instanceId?: unknown } | undefined;
  return typeof params?.instanceId === 'string' ? params.instanceId : '';
}

function describeSlot(slot: Slot): string {
  const entry = slot.entry;
  if (isMessageEntry(entry)) return describeEntry(entry, slot.key, slot.method);
  return entry.event === 'exit' ? `line ${entry.line} (the plugin exits with code ${entry.code})` : `line ${entry.line} (the host closes stdin)`;
}
