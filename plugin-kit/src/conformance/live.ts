import { encodeFrame, ErrorCodes, Initialize, parseConfigYaml, type Capability } from '@flow/protocol';
import { RpcError } from '../connection.js';
import { createTestHost, type TestHost, type TestHostOptions } from '../testing.js';

/**
 * The live conformance cases: what breaks plugins in production and a transcript cannot say
 * (it depends on what the plugin does): every bad input of spec §2.5, the handshake's edges,
 * configuration in both forms, a reader that keeps going while a host call is slow, cancellation,
 * 64 concurrent webhooks and a shutdown with calls in flight. Each runs against a fresh process.
 */
export interface LiveCase {
  name: string;
  description: string;
  /**
   * Runs in the session the previous shared case left running (when it passed and the plugin is
   * still up), to spare a process start per case; any failure gives the next case a fresh process.
   */
  shared?: boolean;
  /** Capabilities the plugin must declare for the case to apply; otherwise it is reported n/a. */
  needs?: Capability;
  run(run: CaseRun): Promise<void | NotApplicable>;
}

/** A case that does not apply to this plugin (it declares no such capability, it makes no host call). */
export class NotApplicable {
  constructor(readonly reason: string) {}
}

/** A failed expectation: the message says what the spec wants and what the plugin did. */
export class CaseFailure extends Error {}

export interface CaseRun {
  /** Starts the plugin (a fresh process) under a test host; closed by the runner. */
  start(options?: TestHostOptions): Promise<TestHost>;
  /** Longest wait for one expected answer. */
  stepTimeoutMs: number;
}

let rawId = 900_000;
const nextRawId = (): number => rawId++;

function fail(message: string): never {
  throw new CaseFailure(message);
}

/** The one answer the plugin sent to `id`, waiting for it; fails when none comes or several do. */
async function answerTo(host: TestHost, id: number | string | null, run: CaseRun, what: string): Promise<{ result?: unknown; error?: { code: number; message: string; data?: unknown } }> {
  try {
    await host.waitFor(() => host.answersTo(id).length > 0, run.stepTimeoutMs);
  } catch {
    fail(`no answer to ${what} (id ${JSON.stringify(id)}) within ${run.stepTimeoutMs} ms${exitNote(host)}`);
  }
  return host.answersTo(id)[0] as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
}

function exitNote(host: TestHost): string {
  const tail = host.stderr.filter((line) => line.trim()).slice(-5);
  return tail.length > 0 ? `; last stderr lines:\n  ${tail.join('\n  ')}` : '';
}

/** Fails unless the plugin still answers `ping`: bad input is never a reason to stop (§2.5). */
async function stillServing(host: TestHost, run: CaseRun, after: string): Promise<void> {
  try {
    await host.request('ping', {}, { timeoutMs: run.stepTimeoutMs });
  } catch (error) {
    fail(`after ${after}, ping got ${error instanceof RpcError ? `error ${error.code} ${error.message}` : String(error)}: a receiver MUST keep serving (spec §2.5)${exitNote(host)}`);
  }
}

function expectError(answer: { result?: unknown; error?: { code: number } }, code: number, what: string): void {
  if (!answer.error) fail(`${what}: expected error ${code}, got result ${JSON.stringify(answer.result)}`);
  if (answer.error.code !== code) fail(`${what}: expected error ${code}, got ${answer.error.code} (${JSON.stringify(answer.error)})`);
}

function frame(message: unknown, headers = ''): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n${headers}\r\n`, 'latin1'), body]);
}

const ping = (id: number): Record<string, unknown> => ({ jsonrpc: '2.0', id, method: 'ping', params: {} });

/** Waits for an error answer with `id: null` that arrived after `from` entries of traffic. */
async function nullIdError(host: TestHost, from: number, code: number, run: CaseRun, what: string): Promise<void> {
  const found = (): boolean =>
    host.traffic.slice(from).some((entry) => entry.direction === 'pluginToHost' && (entry.message as { id?: unknown }).id === null && (entry.message as { error?: { code: number } }).error?.code === code);
  try {
    await host.waitFor(found, run.stepTimeoutMs);
  } catch {
    fail(`${what}: expected error ${code} with "id": null within ${run.stepTimeoutMs} ms${exitNote(host)}`);
  }
}

function badInput(name: string, description: string, body: (host: TestHost, run: CaseRun) => Promise<void>): LiveCase {
  return {
    name,
    description,
    shared: true,
    async run(run) {
      const host = await run.start();
      await body(host, run);
      await stillServing(host, run, description);
    },
  };
}

/** Brings one instance up as the server would: create, default config, enable. Refusals are fine here. */
async function bringUp(host: TestHost, caps: readonly string[]): Promise<string> {
  const inst = await host.createInstance({ instanceId: '1' });
  if (caps.includes('configurer')) {
    const text = await inst.defaultConfig();
    await inst.setConfig(text).catch(() => undefined);
  }
  await inst.enable().catch(() => undefined);
  return inst.id;
}

const webhookParams = (instanceId: string, n: number, method = 'GET'): Record<string, unknown> => ({
  instanceId,
  method,
  path: n % 2 === 0 ? '/' : `/conformance/${n}`,
  query: `n=${n}`,
  headers: { 'content-type': 'application/json', 'user-agent': 'flow-plugin-check' },
  body: method === 'GET' ? '' : Buffer.from(JSON.stringify({ n })).toString('base64'),
});

/** Exercises the plugin: webhooks, display, as a user would; errors are fine, they are the plugin's answers. */
async function exercise(host: TestHost, caps: readonly string[], instanceId: string): Promise<void> {
  const calls: Promise<unknown>[] = [];
  if (caps.includes('webhooker')) {
    calls.push(host.request('webhook/request', webhookParams(instanceId, 0)).catch(() => undefined));
    calls.push(host.request('webhook/request', webhookParams(instanceId, 1, 'POST')).catch(() => undefined));
  }
  if (caps.includes('displayer')) calls.push(host.request('display/get', { instanceId, location: { scheme: 'http', host: 'localhost:8080', webhookBasePath: '/plugin/1/custom/Ptest1/' } }).catch(() => undefined));
  await Promise.all(calls);
}

export const LIVE_CASES: readonly LiveCase[] = [
  badInput('bad-input-garbage', 'stray bytes between frames are skipped, not fatal', async (host) => {
    host.writeRaw('this is not a frame\nnor this\r\n');
  }),
  badInput('bad-input-bare-lf', 'a header ended by a bare LF is garbage, then resync', async (host) => {
    host.writeRaw('Content-Length: 2\n\n{}');
  }),
  badInput('bad-input-mid-line-header', 'resync finds Content-Length: in the middle of a line', async (host, run) => {
    const id = nextRawId();
    host.expectAnswer(id, 'ping');
    host.writeRaw(Buffer.concat([Buffer.from('oops '), frame(ping(id))]));
    expectAnswerOk(await answerTo(host, id, run, 'a ping after "oops "'), 'a ping after "oops "');
  }),
  badInput('bad-input-missing-length', 'a header block without Content-Length is skipped', async (host) => {
    host.writeRaw(`X-Other: 1\r\n\r\n${JSON.stringify(ping(nextRawId()))}`);
  }),
  badInput('bad-input-bad-length', 'a Content-Length that is not a byte count is skipped', async (host) => {
    host.writeRaw('Content-Length: twelve\r\n\r\n{"jsonrpc":"2.0"}');
  }),
  badInput('bad-input-charset', 'a non-UTF-8 charset gets ParseError with id null', async (host, run) => {
    const from = host.traffic.length;
    const id = nextRawId();
    host.writeRaw(frame(ping(id), 'Content-Type: application/vscode-jsonrpc; charset=latin1\r\n'));
    await nullIdError(host, from, ErrorCodes.ParseError, run, 'a frame with charset=latin1');
  }),
  badInput('bad-input-too-large', 'a frame over maxFrameBytes gets FrameTooLarge to its id', async (host, run) => {
    const id = nextRawId();
    const padding = 'x'.repeat(host.limits.maxFrameBytes + 1024);
    host.expectAnswer(id, 'ping');
    host.writeRaw(encodeFrame({ jsonrpc: '2.0', id, method: 'ping', params: { padding } }));
    const answer = await answerTo(host, id, run, 'an oversized ping');
    expectError(answer, ErrorCodes.FrameTooLarge, 'an oversized request');
    const data = answer.error!.data as { limitBytes?: unknown; frameBytes?: unknown } | undefined;
    if (typeof data?.limitBytes !== 'number' || typeof data.frameBytes !== 'number') fail(`FrameTooLarge needs data {limitBytes, frameBytes}, got ${JSON.stringify(data)}`);
  }),
  badInput('bad-input-not-json', 'a body that is not JSON gets ParseError with id null', async (host, run) => {
    const from = host.traffic.length;
    host.writeRaw('Content-Length: 11\r\n\r\n{"jsonrpc":');
    await nullIdError(host, from, ErrorCodes.ParseError, run, 'a body that is not JSON');
  }),
  badInput('bad-input-half-frame', 'a short body followed by the next frame: ParseError, the next frame is not lost', async (host, run) => {
    const id = nextRawId();
    const half = '{"jsonrpc":"2.0"';
    const next = frame(ping(id));
    const fillerId = nextRawId();
    // Most of it is swallowed; a receiver that finds it anyway may answer it.
    host.expectAnswer(fillerId, 'ping');
    const filler = frame(ping(fillerId));
    host.expectAnswer(id, 'ping');
    // The announced length swallows `next` and the start of `filler`: the receiver must find `next` inside.
    host.writeRaw(Buffer.concat([Buffer.from(`Content-Length: ${half.length + next.length + 10}\r\n\r\n${half}`), next, filler]));
    expectAnswerOk(await answerTo(host, id, run, 'the frame after a half frame'), 'the frame after a half frame');
  }),
  badInput('bad-input-not-rpc', 'JSON that is not JSON-RPC gets InvalidRequest (to its id when it has one)', async (host, run) => {
    const from = host.traffic.length;
    host.writeRaw('Content-Length: 5\r\n\r\n[1,2]');
    await nullIdError(host, from, ErrorCodes.InvalidRequest, run, 'a JSON array');
    const noVersion = nextRawId();
    host.expectAnswer(noVersion, 'ping');
    host.writeRaw(frame({ id: noVersion, method: 'ping', params: {} }));
    expectError(await answerTo(host, noVersion, run, 'a request without "jsonrpc"'), ErrorCodes.InvalidRequest, 'a request without "jsonrpc": "2.0"');
    const numericMethod = nextRawId();
    host.expectAnswer(numericMethod, '7');
    host.writeRaw(frame({ jsonrpc: '2.0', id: numericMethod, method: 7, params: {} }));
    expectError(await answerTo(host, numericMethod, run, 'a request whose method is a number'), ErrorCodes.InvalidRequest, 'a request whose method is a number');
  }),
  badInput('bad-input-invalid-params', 'params that do not match get InvalidParams with data.issues [{path, message}]', async (host, run) => {
    const id = nextRawId();
    host.writeFrame({ jsonrpc: '2.0', id, method: 'instance/create', params: { instanceId: 5, user: 'alice' } });
    const answer = await answerTo(host, id, run, 'instance/create with bad params');
    expectError(answer, ErrorCodes.InvalidParams, 'instance/create with a number as instanceId');
    const issues = (answer.error!.data as { issues?: unknown } | undefined)?.issues;
    if (!Array.isArray(issues) || issues.length === 0) fail(`InvalidParams needs data.issues, a non-empty array (spec §10); got data ${JSON.stringify(answer.error!.data)}`);
    for (const issue of issues as { path?: unknown; message?: unknown }[]) {
      if (!Array.isArray(issue.path) || typeof issue.message !== 'string') fail(`each issue is {path: array, message: string} (spec §10); got ${JSON.stringify(issue)}`);
    }
  }),
  badInput('bad-input-duplicate-instance', 'instance/create for an id that exists gets InvalidParams with an issue on instanceId', async (host, run) => {
    await host.createInstance({ instanceId: '7' });
    const id = nextRawId();
    host.writeFrame({ jsonrpc: '2.0', id, method: 'instance/create', params: { instanceId: '7', user: { id: 1, name: 'alice', admin: false }, webhookBasePath: '/plugin/7/custom/Pdup/' } });
    const answer = await answerTo(host, id, run, 'a second instance/create for "7"');
    expectError(answer, ErrorCodes.InvalidParams, 'a duplicate instance/create');
    const issues = (answer.error!.data as { issues?: { path?: unknown }[] } | undefined)?.issues;
    if (!Array.isArray(issues) || !issues.some((issue) => JSON.stringify(issue.path) === '["instanceId"]')) fail(`a duplicate instance id is InvalidParams with data.issues [{"path": ["instanceId"], ...}] (spec §10); got ${JSON.stringify(answer.error!.data)}`);
  }),
  badInput('bad-input-unknown-notification', 'unknown notifications and stray responses are ignored', async (host) => {
    host.writeFrame({ jsonrpc: '2.0', method: 'flow/conformance-unknown', params: {} });
    host.writeFrame({ jsonrpc: '2.0', id: 424242, result: {} });
    host.writeFrame({ jsonrpc: '2.0', id: 'stray', error: { code: 1000, message: 'nobody asked' } });
  }),
  {
    name: 'bad-input-eof-mid-frame',
    description: 'the stream ending inside a frame is end of stream: the plugin exits 1',
    async run(run) {
      const host = await run.start();
      host.writeRaw('Content-Length: 60\r\n\r\n{"jsonrpc":"2.0"');
      const code = await Promise.race([host.closeInput(), new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), run.stepTimeoutMs))]);
      if (code === 'timeout') fail(`the plugin did not exit within ${run.stepTimeoutMs} ms after its stdin ended mid-frame (spec §2.5, §4.2 step 7)`);
      if (code !== 1) fail(`exit code ${code} after stdin ended without shutdown; expected 1 (spec §4.2)`);
    },
  },
  {
    name: 'not-initialized',
    description: 'requests before initialize get NotInitialized; initialize then works',
    async run(run) {
      const host = await run.start({ handshake: false });
      host.writeFrame({ jsonrpc: '2.0', method: 'initialized', params: {} });
      const early = nextRawId();
      host.writeFrame({ jsonrpc: '2.0', id: early, method: 'ping', params: {} });
      expectError(await answerTo(host, early, run, 'a ping before initialize'), ErrorCodes.NotInitialized, 'a ping before initialize');
      const create = nextRawId();
      host.writeFrame({ jsonrpc: '2.0', id: create, method: 'instance/create', params: { instanceId: '1', user: { id: 1, name: 'a', admin: false }, webhookBasePath: '/p/' } });
      expectError(await answerTo(host, create, run, 'instance/create before initialize'), ErrorCodes.NotInitialized, 'instance/create before initialize');
      await host.initialize();
      host.notify('initialized', {});
      await stillServing(host, run, 'NotInitialized answers');
    },
  },
  {
    name: 'second-initialize',
    description: 'a second initialize gets InvalidRequest; the session goes on',
    async run(run) {
      const host = await run.start();
      const id = nextRawId();
      host.writeFrame({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersions: ['1.1'], host: { name: 'flow-plugin check', version: '0' }, limits: host.limits } });
      expectError(await answerTo(host, id, run, 'a second initialize'), ErrorCodes.InvalidRequest, 'a second initialize');
      await stillServing(host, run, 'a second initialize');
    },
  },
  {
    name: 'id-zero',
    description: 'a request with "id": 0 (the Flow host\'s first) is answered to id 0',
    async run(run) {
      const host = await run.start({ handshake: false });
      host.writeFrame({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersions: ['1.1'], host: { name: 'flow-plugin check', version: '0' }, limits: host.limits } });
      const answer = await answerTo(host, 0, run, 'initialize with id 0');
      if (!answer.result) fail(`initialize with "id": 0 was answered ${JSON.stringify(answer)}; 0 is a valid id (spec §2.4)`);
    },
  },
  {
    name: 'config-yaml',
    needs: 'configurer',
    description: 'a 1.0 host: the default YAML is accepted (also with CRLF and comments), YAML that does not parse is InvalidConfig',
    async run(run) {
      const host = await run.start({ protocolVersions: ['1.0'] });
      const inst = await host.createInstance();
      const text = await inst.defaultConfig();
      await acceptConfig(host, inst.id, { config: text }, run, 'its own default config (YAML text)');
      const crlf = `# conformance: a comment line\r\n${text.replace(/\r?\n/g, '\r\n')}# trailing comment\r\n`;
      await acceptConfig(host, inst.id, { config: crlf }, run, 'its default config with CRLF line ends and comments');
      const id = nextRawId();
      host.writeFrame({ jsonrpc: '2.0', id, method: 'config/validateAndSet', params: { instanceId: inst.id, config: 'broken: [unclosed\n' } });
      expectError(await answerTo(host, id, run, 'YAML that does not parse'), ErrorCodes.InvalidConfig, 'YAML that does not parse (spec §7.6)');
      await acceptConfig(host, inst.id, { config: text }, run, 'its default config after a rejection');
    },
  },
  {
    name: 'config-json',
    needs: 'configurer',
    description: 'a 1.1 host: the default config with its JSON value is accepted; wrong types get InvalidConfig or are accepted, nothing else',
    async run(run) {
      const host = await run.start({ protocolVersions: ['1.1'] });
      const inst = await host.createInstance();
      const text = await inst.defaultConfig();
      const parsed = parseConfigYaml(text);
      if (!parsed.ok) fail(`the default config does not parse under the YAML 1.2 core schema, so a 1.1 host refuses it: ${parsed.issue.message}`);
      await acceptConfig(host, inst.id, { config: text, value: parsed.value }, run, 'its own default config (text and JSON value)');
      const wrong = Object.fromEntries(Object.keys(parsed.value).map((key) => [key, { conformance: [true, 1.5, null] }]));
      const wrongText = Object.keys(wrong).map((key) => `${JSON.stringify(key)}: {conformance: [true, 1.5, null]}`).join('\n');
      const id = nextRawId();
      host.writeFrame({ jsonrpc: '2.0', id, method: 'config/validateAndSet', params: { instanceId: inst.id, config: wrongText, value: wrong } });
      const answer = await answerTo(host, id, run, 'a config with every value of the wrong type');
      if (answer.error && answer.error.code !== ErrorCodes.InvalidConfig) fail(`a config with values of the wrong type must be refused with InvalidConfig (1007), got ${JSON.stringify(answer.error)}`);
      await acceptConfig(host, inst.id, { config: text, value: parsed.value }, run, 'its default config after that');
    },
  },
  {
    name: 'slow-host-call',
    description: 'while a host call of the plugin is unanswered, ping is still answered (the reader never blocks)',
    async run(run) {
      const host = await run.start();
      const caps = host.initializeResult?.capabilities ?? [];
      let held = 0;
      let blocked: string | undefined;
      host.beforeHostCall = async (method) => {
        held++;
        // The host call stays unanswered until a ping sent now comes back.
        try {
          await host.request('ping', {}, { timeoutMs: run.stepTimeoutMs });
        } catch {
          blocked ??= `ping was not answered within ${run.stepTimeoutMs} ms while the plugin waited for its ${method} call: its reader blocks on host calls (spec §8)`;
        }
      };
      const instanceId = await bringUp(host, caps);
      await exercise(host, caps, instanceId);
      if (blocked) fail(blocked);
      if (held === 0) return new NotApplicable('the plugin made no host call when created, configured, enabled and called');
    },
  },
  {
    name: 'webhook-cancel',
    needs: 'webhooker',
    description: 'a cancelled webhook gets at most one answer and the plugin keeps serving',
    async run(run) {
      const host = await run.start();
      const caps = host.initializeResult?.capabilities ?? [];
      const instanceId = await bringUp(host, caps);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      host.beforeHostCall = () => released;
      const id = nextRawId();
      host.writeFrame({ jsonrpc: '2.0', id, method: 'webhook/request', params: webhookParams(instanceId, 1, 'POST') });
      host.writeFrame({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } });
      await stillServing(host, run, 'a cancelled webhook');
      release();
      host.beforeHostCall = undefined;
      await stillServing(host, run, 'a cancelled webhook whose host calls were answered');
      if (host.answersTo(id).length > 1) fail(`the cancelled webhook was answered ${host.answersTo(id).length} times; a request gets at most one answer`);
    },
  },
  {
    name: 'concurrent-webhooks',
    needs: 'webhooker',
    description: '64 concurrent webhooks are each answered once, pings answered meanwhile',
    async run(run) {
      const host = await run.start();
      const caps = host.initializeResult?.capabilities ?? [];
      const instanceId = await bringUp(host, caps);
      const ids = Array.from({ length: 64 }, () => nextRawId());
      ids.forEach((id, n) => host.writeFrame({ jsonrpc: '2.0', id, method: 'webhook/request', params: webhookParams(instanceId, n, n % 3 === 0 ? 'POST' : 'GET') }));
      await stillServing(host, run, '64 webhooks in flight');
      try {
        await host.waitFor(() => ids.every((id) => host.answersTo(id).length > 0), run.stepTimeoutMs * 2);
      } catch {
        fail(`${ids.filter((id) => host.answersTo(id).length === 0).length} of 64 concurrent webhooks got no answer within ${run.stepTimeoutMs * 2} ms`);
      }
      const twice = ids.filter((id) => host.answersTo(id).length > 1);
      if (twice.length > 0) fail(`${twice.length} webhooks were answered more than once`);
    },
  },
  {
    name: 'shutdown-in-flight',
    description: 'shutdown while calls are in flight: answered in time, every call answered once, exit 0',
    async run(run) {
      const host = await run.start();
      const caps = host.initializeResult?.capabilities ?? [];
      const instanceId = await bringUp(host, caps);
      const ids: number[] = [];
      if (caps.includes('webhooker')) {
        for (let n = 0; n < 8; n++) {
          const id = nextRawId();
          ids.push(id);
          host.writeFrame({ jsonrpc: '2.0', id, method: 'webhook/request', params: webhookParams(instanceId, n, 'POST') });
        }
      }
      const pingId = nextRawId();
      ids.push(pingId);
      host.writeFrame(ping(pingId));
      const shutdownId = nextRawId();
      host.writeFrame({ jsonrpc: '2.0', id: shutdownId, method: 'shutdown', params: {} });
      const answer = await answerTo(host, shutdownId, run, 'shutdown with calls in flight');
      if (!answer.result) fail(`shutdown was answered ${JSON.stringify(answer.error)}; expected {}`);
      const unanswered = ids.filter((id) => host.answersTo(id).length !== 1);
      if (unanswered.length > 0) fail(`${unanswered.length} requests sent before shutdown were not answered exactly once by the time shutdown was answered (spec §4.2 step 5)`);
      host.notify('exit', {});
      const code = await Promise.race([host.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), run.stepTimeoutMs))]);
      if (code !== 0) fail(`after shutdown and exit the plugin ${code === 'timeout' ? 'did not exit' : `exited with ${code}`}; expected exit code 0`);
    },
  },
];

function expectAnswerOk(answer: { result?: unknown; error?: unknown }, what: string): void {
  if (answer.error) fail(`${what} was answered with an error: ${JSON.stringify(answer.error)}`);
}

async function acceptConfig(host: TestHost, instanceId: string, params: { config: string; value?: unknown }, run: CaseRun, what: string): Promise<void> {
  const id = nextRawId();
  host.writeFrame({ jsonrpc: '2.0', id, method: 'config/validateAndSet', params: { instanceId, ...params } });
  const answer = await answerTo(host, id, run, `config/validateAndSet with ${what}`);
  if (answer.error) fail(`the plugin refused ${what}: ${JSON.stringify(answer.error)}; a plugin MUST accept its own default config (spec §7.6)`);
}

export interface LiveResult {
  name: string;
  description: string;
  ok: boolean;
  notApplicable?: string;
  message?: string;
}

/**
 * Runs the live cases against `command`: one probe for the plugin's capabilities, then each case
 * in a fresh process (shared cases reuse the last shared session while it is healthy).
 */
export async function runLiveCases(cases: readonly LiveCase[], command: readonly string[], stepTimeoutMs: number): Promise<LiveResult[]> {
  const results: LiveResult[] = [];
  let caps: readonly string[] | undefined;
  let shared: TestHost | undefined;
  // Every request the runner sends (the handshake above all: a process just started) waits the
  // step timeout, never less than the handshake's protocol deadline: a busy machine gets more
  // time with --step-timeout, a quiet one loses none it had.
  const requestTimeoutMs = Math.max(stepTimeoutMs, Initialize.defaultTimeoutMs);
  const closeHost = (host: TestHost): Promise<unknown> => Promise.race([host.close(), new Promise((resolve) => setTimeout(resolve, 6_000))]);
  try {
    for (const testCase of cases) {
      const base = { name: testCase.name, description: testCase.description };
      if (testCase.needs) {
        if (caps === undefined) {
          try {
            const probe = await createTestHost({ command, requestTimeoutMs });
            caps = probe.initializeResult?.capabilities ?? [];
            await closeHost(probe);
          } catch (error) {
            results.push({ ...base, ok: false, message: `the plugin did not start: ${(error as Error).message}` });
            continue;
          }
        }
        if (!caps.includes(testCase.needs)) {
          results.push({ ...base, ok: true, notApplicable: `not a ${testCase.needs}` });
          continue;
        }
      }
      const hosts: TestHost[] = [];
      let usedShared = false;
      const run: CaseRun = {
        stepTimeoutMs,
        async start(options = {}) {
          if (testCase.shared && Object.keys(options).length === 0) {
            if (shared) {
              usedShared = true;
              return shared;
            }
            shared = await createTestHost({ command, requestTimeoutMs });
            usedShared = true;
            return shared;
          }
          const host = await createTestHost({ command, requestTimeoutMs, ...options });
          hosts.push(host);
          return host;
        },
      };
      const from = shared?.violations.length ?? 0;
      let result: LiveResult;
      try {
        const outcome = await testCase.run(run);
        const violations = [...(usedShared && shared ? shared.violations.slice(from) : []), ...hosts.flatMap((host) => host.violations)];
        if (outcome instanceof NotApplicable) result = { ...base, ok: true, notApplicable: outcome.reason };
        else if (violations.length > 0) result = { ...base, ok: false, message: `messages that break the protocol schemas:\n  ${violations.slice(0, 5).join('\n  ')}` };
        else result = { ...base, ok: true };
      } catch (error) {
        result = { ...base, ok: false, message: error instanceof CaseFailure ? error.message : `the case could not run: ${(error as Error).message}` };
      }
      results.push(result);
      await Promise.all(hosts.map(closeHost));
      if (usedShared && shared && !result.ok) {
        await closeHost(shared);
        shared = undefined;
      }
    }
  } finally {
    if (shared) await closeHost(shared);
  }
  return results;
}
