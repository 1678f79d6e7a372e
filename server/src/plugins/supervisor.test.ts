import type { Capability, PluginInfo } from '@flow/protocol';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import type { DiscoveredPlugin } from './discovery.js';
import type { SessionEnd, SessionPhase } from './session.js';
import { PluginSupervisor, type SupervisedSession, type SupervisorClock } from './supervisor.js';

/** A session the test drives by hand: it runs, crashes or gives up when told to. */
class FakeSession implements SupervisedSession {
  phase: SessionPhase = 'handshaking';
  ending: { kind: SessionEnd['kind']; reason?: string } | undefined;
  info: PluginInfo | undefined;
  capabilities: ReadonlySet<Capability> = new Set();
  readonly ended: Promise<SessionEnd>;
  readonly settled: Promise<void>;
  readonly claimed: Promise<void>;
  stops = 0;
  private finish!: (end: SessionEnd) => void;
  private settle!: () => void;

  constructor() {
    this.ended = new Promise((resolve) => (this.finish = resolve));
    this.settled = new Promise((resolve) => (this.settle = resolve));
    this.claimed = this.settled;
  }

  stderrTail(): string[] {
    return ['last words'];
  }

  run(modulePath = 'example.com/fake'): void {
    this.info = { name: 'fake', modulePath, version: '1.0.0' } as PluginInfo;
    this.capabilities = new Set<Capability>(['webhooker']);
    this.phase = 'running';
    this.settle();
  }

  crash(reason: string): void {
    this.ending = { kind: 'crashed', reason };
    this.finish({ kind: 'crashed', reason, detail: reason, stderr: '; last stderr: last words' });
    this.settle();
  }

  giveUp(kind: 'incompatible' | 'refused', reason: string): void {
    this.ending = { kind, reason };
    this.finish({ kind, reason });
    this.settle();
  }

  async stop(): Promise<void> {
    this.stops++;
    if (this.ending) return;
    this.ending = { kind: 'stopped' };
    this.finish({ kind: 'stopped' });
    this.settle();
    await this.ended;
  }
}

/** A clock that only moves when the test says so; timers fire in due order. */
class FakeClock implements SupervisorClock {
  time = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now = (): number => this.time;
  random = (): number => 0.5;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.ids;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown): void => {
    this.timers = this.timers.filter((t) => t.id !== id);
  };
  /** The delay of the one pending timer (the backoff), or undefined. */
  get pending(): number | undefined {
    return this.timers.length === 0 ? undefined : Math.min(...this.timers.map((t) => t.at - this.time));
  }
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.fn();
  }
}

const plugin: DiscoveredPlugin = { name: 'fake', path: '/plugins/fake', kind: 'executable', command: '/plugins/fake', args: [], cwd: '/plugins', env: {}, signature: 'a' };
const policy = { backoffBaseMs: 100, backoffMaxMs: 1000, crashLoopCount: 3, crashLoopWindowMs: 10_000 };

function setup(restartPolicy = policy) {
  const clock = new FakeClock();
  const sessions: FakeSession[] = [];
  const sup = new PluginSupervisor<FakeSession>(plugin, restartPolicy, () => {
    const s = new FakeSession();
    sessions.push(s);
    return s;
  }, createLogger({ level: 'silent' }), clock);
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  /** Session `i` crashes; resolves once the supervisor has handled its end. */
  const crash = async (i: number, reason: string) => {
    sessions[i]!.crash(reason);
    await tick();
  };
  return { clock, sessions, sup, tick, crash };
}

describe('PluginSupervisor', () => {
  it('starts one session and shows it running; start() twice starts no second one', async () => {
    const { sessions, sup } = setup();
    const started = sup.start();
    expect(sup.status).toBe('starting');
    void sup.start();
    expect(sessions).toHaveLength(1);
    sessions[0]!.run();
    await started;
    expect(sup.status).toBe('running');
    expect(sup.modulePath).toBe('example.com/fake');
    expect(sup.statusReason).toBeUndefined();
  });

  it('after a crash waits the backoff (base·2^(n-1), jitter from the clock) before the next session, and keeps the reason until one runs', async () => {
    const { clock, sessions, sup, tick, crash } = setup();
    void sup.start();
    sessions[0]!.run();
    await crash(0, 'exited with code 1');
    expect(sup.status).toBe('restarting');
    expect(sup.statusReason).toBe('exited with code 1');
    expect(sup.statusDetail).toBe('exited with code 1; last stderr: last words');
    expect(sup.lastError).toBe('exited with code 1; last stderr: last words');
    // Between sessions the plugin is still named by what the last one announced.
    expect(sup.modulePath).toBe('example.com/fake');
    expect(sup.stderrTail()).toEqual(['last words']);
    expect(clock.pending).toBe(75); // 100 · (0.5 + 0.5 · 0.5)
    clock.advance(74);
    expect(sessions).toHaveLength(1);
    clock.advance(1);
    expect(sessions).toHaveLength(2);
    expect(sup.restarts).toBe(1);
    expect(sup.status).toBe('starting');
    expect(sup.statusReason).toBe('exited with code 1');
    sessions[1]!.run();
    await tick();
    expect(sup.status).toBe('running');
    expect(sup.statusReason).toBeUndefined();
  });

  it('doubles the backoff per crash within the window and gives up (failed) at the crash limit', async () => {
    const { clock, sessions, sup, tick, crash } = setup();
    void sup.start();
    await crash(0, 'boom 1');
    expect(clock.pending).toBe(75);
    clock.advance(75);
    await crash(1, 'boom 2');
    expect(clock.pending).toBe(150);
    clock.advance(150);
    await crash(2, 'boom 3');
    expect(sup.status).toBe('failed');
    expect(sup.statusReason).toBe('crashed 3 times within 10 s: boom 3');
    expect(sup.statusDetail).toBe('crashed 3 times within 10 s: boom 3; last stderr: last words');
    expect(clock.pending).toBeUndefined();
    // An admin restart clears the history and starts a session at once.
    const restarted = sup.restart();
    await tick();
    expect(sessions).toHaveLength(4);
    sessions[3]!.run();
    await restarted;
    expect(sup.status).toBe('running');
  });

  it('forgets crashes older than the window', async () => {
    const { clock, sessions, sup, tick, crash } = setup();
    void sup.start();
    for (let i = 0; i < 5; i++) {
      await crash(i, `boom ${i}`);
      expect(sup.status).toBe('restarting');
      // The next crash comes after the window: the history holds one crash each time.
      expect(clock.pending).toBe(75);
      clock.advance(10_000);
    }
    expect(sessions).toHaveLength(6);
  });

  it('caps the backoff at backoffMaxMs', async () => {
    const { clock, sessions, sup, tick, crash } = setup({ ...policy, crashLoopCount: 100, crashLoopWindowMs: 1e9 });
    void sup.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await crash(i, 'boom');
      delays.push(clock.pending!);
      clock.advance(clock.pending!);
    }
    expect(delays).toEqual([75, 150, 300, 600, 750, 750]);
  });

  it('an incompatible or refused session leaves the plugin incompatible / failed with no further session', async () => {
    const { clock, sessions, sup, tick, crash } = setup();
    void sup.start();
    sessions[0]!.giveUp('incompatible', 'protocol version mismatch');
    await tick();
    expect(sup.status).toBe('incompatible');
    expect(sup.statusReason).toBe('protocol version mismatch');
    expect(clock.pending).toBeUndefined();

    const other = setup();
    void other.sup.start();
    other.sessions[0]!.giveUp('refused', 'duplicate module path: …');
    await other.tick();
    expect(other.sup.status).toBe('failed');
    expect(other.sup.lastError).toBe('duplicate module path: …');
    expect(sessions).toHaveLength(1);
  });

  it('stop during the backoff starts nothing later; a crash while stopping starts nothing either', async () => {
    const { clock, sessions, sup, tick, crash } = setup();
    void sup.start();
    await crash(0, 'boom');
    expect(clock.pending).toBe(75);
    await sup.stop();
    expect(sup.status).toBe('stopped');
    expect(clock.pending).toBeUndefined();
    clock.advance(10_000);
    expect(sessions).toHaveLength(1);

    void sup.start();
    sessions[1]!.run();
    const stopping = sup.stop();
    sessions[1]!.crash('died while stopping');
    await stopping;
    await tick();
    expect(sup.status).toBe('stopped');
    expect(clock.pending).toBeUndefined();
    expect(sessions).toHaveLength(2);
  });

  it('restart with a new file stops the session whole and starts a fresh one on the new file', async () => {
    const { sessions, sup } = setup();
    void sup.start();
    sessions[0]!.run();
    const next = { ...plugin, signature: 'b' };
    const restarted = sup.restart(next);
    await Promise.resolve();
    expect(sessions[0]!.stops).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(sessions).toHaveLength(2);
    expect(sup.plugin).toBe(next);
    sessions[1]!.run('example.com/other');
    await restarted;
    expect(sup.modulePath).toBe('example.com/other');
  });

  it('names the state in the error of a call it cannot take', async () => {
    const { sessions, sup, tick, crash } = setup();
    void sup.start();
    sessions[0]!.run();
    await crash(0, 'exited with code 3');
    const err = sup.notRunning();
    expect(err.code).toBe('FLOW_ERR_PLUGIN_NOT_RUNNING');
    expect(err.message).toBe('plugin fake is restarting: exited with code 3');
  });
});
