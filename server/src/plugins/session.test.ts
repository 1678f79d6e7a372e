import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createMessageConnection, ResponseError, type MessageConnection } from 'vscode-jsonrpc/node';
import { ErrorCodes, Exit, Initialize, Initialized, InstanceCreate, Ping, Shutdown, createStreamTransport, type RequestDefinition } from '@flow/protocol';
import { createLogger } from '../log.js';
import { pluginCallError } from './connection.js';
import type { DiscoveredPlugin } from './discovery.js';
import { LogBudget } from './log-budget.js';
import { PidFile } from './orphans.js';
import { LineRing, type ExitInfo, type ProcessHandle } from './process.js';
import { PluginSession, type SessionPorts } from './session.js';
import type { SessionSettings } from './settings.js';
import { waitFor } from '../../../test/helpers/wait.js';

/**
 * A process that is two in-memory pipes: the test plays the plugin with vscode-jsonrpc on the
 * other end, and decides when the process exits. Everything it is asked to do is recorded.
 */
class FakeProcess implements ProcessHandle {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly pid = 424242;
  readonly startedAt = Date.now();
  readonly stderr = new LineRing(10);
  readonly exited: Promise<ExitInfo>;
  readonly events: string[] = [];
  readonly plugin: MessageConnection;
  private exitInfo: ExitInfo | undefined;
  private resolveExit!: (info: ExitInfo) => void;

  constructor() {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    const side = createStreamTransport(this.stdin, this.stdout);
    this.plugin = createMessageConnection(side.reader, side.writer);
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  exit(info: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    this.stdout.end();
    this.resolveExit(info);
  }

  signal(sig: NodeJS.Signals): void {
    this.events.push(sig);
    if (sig === 'SIGKILL') this.exit({ code: null, signal: 'SIGKILL' });
  }

  async waitExit(): Promise<boolean> {
    return !this.running;
  }

  /** As a plugin does on EOF: it reads what it was sent up to the end of its stdin, then exits. */
  async terminate(): Promise<ExitInfo> {
    this.events.push(this.stdin.writableEnded ? 'terminate (stdin closed)' : 'terminate');
    if (this.running && !this.stdin.readableEnded) await once(this.stdin, 'end');
    this.exit({ code: 0, signal: null });
    return this.exited;
  }
}

const settings: SessionSettings = {
  handshakeTimeoutMs: 2000,
  timeoutFor: (def: RequestDefinition) => (def === Ping ? 100 : 2000),
  stopStepMs: 200,
  pingIntervalMs: 0,
  stderrLines: 10,
  limits: { maxFrameBytes: 1 << 20, storageQuotaBytes: 1 << 20, webhookBodyBytes: 1 << 20 },
  hostVersion: 'test',
  serverEnv: {},
};
const plugin: DiscoveredPlugin = { name: 'fake', path: '/plugins/fake', kind: 'manifest', command: '/bin/false', args: [], cwd: '/', env: {}, signature: 'a' };
const initResult = { protocolVersion: '1.0', info: { name: 'Fake', modulePath: 'example.com/fake', version: '1.0.0' }, capabilities: ['webhooker', 'no-such-capability'] };

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function launch(opts: { ports?: Partial<SessionPorts>; settings?: Partial<SessionSettings>; onInit?: (proc: FakeProcess) => unknown } = {}) {
  dir = mkdtempSync(path.join(tmpdir(), 'flow-session-'));
  const log = createLogger({ level: 'silent' });
  const proc = new FakeProcess();
  const seen: string[] = [];
  proc.plugin.onRequest(Initialize.method, () => (opts.onInit ? opts.onInit(proc) : initResult));
  proc.plugin.onNotification(Initialized.method, () => seen.push('initialized'));
  proc.plugin.onRequest(Shutdown.method, () => (seen.push('shutdown'), {}));
  proc.plugin.onNotification(Exit.method, () => seen.push('exit'));
  proc.plugin.listen();
  const session = PluginSession.start({
    plugin,
    settings: { ...settings, ...opts.settings },
    pids: new PidFile(dir, log),
    log,
    tokens: new Set(),
    logBudget: new LogBudget(),
    spawn: async () => proc,
    ports: {
      claim: async () => undefined,
      bringUp: async (s) => {
        seen.push('bringUp');
        s.instances.set('1', { userId: 1, enabled: false });
      },
      hostRequest: async () => ({}),
      hostNotification: () => undefined,
      notRunning: () => pluginCallError('FLOW_ERR_PLUGIN_NOT_RUNNING', 'not running', ErrorCodes.TransportClosed),
      ...opts.ports,
    },
  });
  return { session, proc, seen };
}

describe('PluginSession', () => {
  it('handshakes, claims, sends initialized, brings up instances, then runs', async () => {
    const { session, seen } = launch();
    expect(session.phase).toBe('handshaking');
    await session.settled;
    expect(session.phase).toBe('running');
    expect(session.info?.modulePath).toBe('example.com/fake');
    // Unknown capabilities are ignored, not fatal.
    expect([...session.capabilities]).toEqual(['webhooker']);
    expect(seen).toContain('bringUp');
    await waitFor(() => seen.includes('initialized'), 'initialized');
    expect(session.instances.size).toBe(1);
    expect(session.connected).toBe(true);
    expect(session.pid).toBe(424242);
    await session.stop();
  });

  it('stops in order: shutdown, exit, stdin closed, then the process is ended; the session ends stopped and whole', async () => {
    const { session, proc, seen } = launch();
    await session.settled;
    await session.stop();
    expect(await session.ended).toEqual({ kind: 'stopped' });
    await waitFor(() => seen.includes('exit'), 'exit');
    expect(seen.slice(-2)).toEqual(['shutdown', 'exit']);
    expect(proc.events).toEqual(['terminate (stdin closed)']);
    expect(session.instances.size).toBe(0);
    expect(session.connected).toBe(false);
    // Stopping twice is harmless, and a stopped session refuses calls without sending them.
    await session.stop();
    await expect(session.call(Ping, {})).rejects.toMatchObject({ code: 'FLOW_ERR_PLUGIN_NOT_RUNNING' });
  });

  it('ends as crashed when its process exits, failing calls in flight at once, with the last stderr lines', async () => {
    const { session, proc } = launch();
    await session.settled;
    proc.plugin.onRequest(InstanceCreate.method, () => new Promise(() => undefined));
    const inFlight = session.call(InstanceCreate, { instanceId: '2', user: { id: 2, name: 'u', admin: false }, webhookBasePath: '/x/' });
    proc.stderr.push('panic: out of cheese');
    proc.exit({ code: 3, signal: null });
    await expect(inFlight).rejects.toMatchObject({ code: 'FLOW_ERR_PLUGIN_CLOSED' });
    expect(session.ending).toEqual({ kind: 'crashed', reason: 'exited with code 3' });
    expect(await session.ended).toEqual({ kind: 'crashed', reason: 'exited with code 3', detail: 'exited with code 3', stderr: '; last stderr: panic: out of cheese' });
    expect(session.instances.size).toBe(0);
  });

  it('reports an exit before the handshake as such', async () => {
    const { session } = launch({
      onInit: (proc) => {
        proc.exit({ code: 127, signal: null });
        return new Promise(() => undefined);
      },
    });
    expect(await session.ended).toMatchObject({ kind: 'crashed', reason: 'exited with code 127 before the handshake' });
    await session.settled;
    expect(session.phase).toBe('handshaking');
  });

  it('kills a plugin that writes garbage on stdout and ends as crashed, naming what it wrote', async () => {
    const { session, proc } = launch();
    await session.settled;
    proc.stdout.write('hello from a stray console.log\r\n\r\n');
    const end = await session.ended;
    expect(end.kind).toBe('crashed');
    expect(end.kind === 'crashed' && end.reason).toMatch(/^broke the protocol on stdout: /);
    expect(proc.events[0]).toBe('SIGKILL');
  });

  it('ends incompatible when the plugin refuses every protocol version, naming both sides', async () => {
    const { session, seen } = launch({
      onInit: () => new ResponseError(ErrorCodes.IncompatibleVersion, 'no', { pluginVersions: ['2.0'] }),
    });
    const end = await session.ended;
    expect(end).toEqual({ kind: 'incompatible', reason: expect.stringMatching(/^protocol version mismatch: the plugin speaks 2\.0, this server speaks 1\./) });
    expect(seen).not.toContain('bringUp');
  });

  it('ends refused when its module path is taken, without bringing anything up', async () => {
    const { session, seen } = launch({ ports: { claim: async () => 'duplicate module path: taken' } });
    expect(await session.ended).toEqual({ kind: 'refused', reason: 'duplicate module path: taken' });
    expect(seen).not.toContain('bringUp');
    expect(seen).not.toContain('initialized');
  });

  it('a stop during the handshake ends the session stopped, not crashed', async () => {
    let answer: (v: unknown) => void = () => undefined;
    const { session } = launch({ onInit: () => new Promise((resolve) => (answer = resolve)) });
    await new Promise((r) => setImmediate(r));
    await session.stop();
    answer(initResult);
    expect(await session.ended).toEqual({ kind: 'stopped' });
    await session.settled;
    expect(session.phase).toBe('handshaking');
  });

  it('ends as crashed when the plugin misses its liveness ping', async () => {
    const { session, proc } = launch({ settings: { pingIntervalMs: 10 } });
    let pings = 0;
    proc.plugin.onRequest(Ping.method, () => (++pings < 3 ? {} : new Promise(() => undefined)));
    await session.settled;
    const end = await session.ended;
    expect(pings).toBe(3);
    expect(end).toMatchObject({ kind: 'crashed', reason: 'did not answer ping within 100 ms' });
    expect(proc.events[0]).toBe('SIGKILL');
  });
});
