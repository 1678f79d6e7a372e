import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { Bindings, DEFAULT_VOLATILE_RULES, Normaliser, TranscriptError, TranscriptRecorder, isMessageEntry, parseTranscript, type TranscriptHeader } from './transcript.js';

const header = (extra: Partial<TranscriptHeader> = {}): string =>
  JSON.stringify({ flowTranscript: 1, protocolVersion: '1.0', recordedAt: '2026-01-01T00:00:00Z', recordedBy: 'test', volatile: [], redactions: [], ...extra });
const line = (value: unknown): string => JSON.stringify(value);
const ping = { t: 0, dir: 'send', msg: { jsonrpc: '2.0', id: 1, method: 'ping', params: {} } };
const pong = { t: 1, dir: 'recv', msg: { jsonrpc: '2.0', id: 1, result: {} } };

function errorOf(text: string): TranscriptError {
  try {
    parseTranscript(text);
  } catch (error) {
    if (error instanceof TranscriptError) return error;
    throw error;
  }
  throw new Error('parsed without error');
}

describe('parseTranscript', () => {
  it('reads a header, messages and events with their line numbers', () => {
    const t = parseTranscript([header(), line(ping), line(pong), line({ t: 2, event: 'exit', code: 0 })].join('\n') + '\n');
    expect(t.header.recordedBy).toBe('test');
    expect(t.entries.map((e) => e.line)).toEqual([2, 3, 4]);
    expect(t.entries[2]).toMatchObject({ event: 'exit', code: 0 });
  });

  it('names the last line of a truncated file', () => {
    const text = [header(), line(ping), line(pong).slice(0, 20)].join('\n');
    const error = errorOf(text);
    expect(error.line).toBe(3);
    expect(error.message).toMatch(/line 3: not valid JSON \(the file looks truncated\)/);
  });

  it('rejects a response whose request is not in the transcript (a hand edit)', () => {
    const error = errorOf([header(), line(ping), line({ ...pong, msg: { jsonrpc: '2.0', id: 2, result: {} } })].join('\n'));
    expect(error.message).toBe('line 3: response to id 2, but no host request with that id is waiting for an answer earlier in the transcript');
  });

  it('rejects a missing header, bad rules, blank lines and unknown events', () => {
    expect(errorOf(line(ping)).message).toMatch(/^line 1: not a Flow transcript header/);
    expect(errorOf(header({ volatile: [{ path: 'params', kind: 'any' }] as never })).message).toMatch(/line 1: header: volatile\[0\]: "path" must be a JSON pointer/);
    expect(errorOf([header(), '', line(ping)].join('\n')).message).toMatch(/^line 2: empty line/);
    expect(errorOf([header(), line({ t: 0, event: 'boom' })].join('\n')).message).toMatch(/^line 2: unknown event "boom"/);
    expect(errorOf([header(), line({ t: 0, dir: 'up', msg: ping.msg })].join('\n')).message).toMatch(/^line 2: "dir" must be "send"/);
  });
});

describe('Normaliser.compare', () => {
  const normaliser = new Normaliser({
    volatile: [...DEFAULT_VOLATILE_RULES, { path: '/params/when', method: 'log/write', kind: 'match', pattern: '^\\d{4}-' }],
    redactions: [{ placeholder: 'REDACTED-1', what: 'webhook token' }],
  });
  const send = (instanceId: string, message = 'hi') => ({ jsonrpc: '2.0', id: 9, method: 'message/send', params: { instanceId, message } });
  const context = { dir: 'recv' as const, method: 'message/send' };

  it('ignores the envelope id and binds instance ids consistently', () => {
    const bindings = new Bindings();
    expect(normaliser.compare(send('1'), { ...send('7'), id: 42 }, context, bindings)).toEqual([]);
    expect(normaliser.compare(send('1'), send('7'), context, bindings)).toEqual([]);
    const [difference] = normaliser.compare(send('1'), send('8'), context, bindings);
    expect(difference).toMatchObject({ path: '/params/instanceId', expected: '1', actual: '8' });
    expect(difference!.reason).toMatch(/instanceId "1" stands for "7"/);
  });

  it('reports plain differences by JSON pointer and commits no binding from a failed match', () => {
    const bindings = new Bindings();
    expect(normaliser.compare(send('1', 'a'), send('5', 'b'), context, bindings)).toEqual([{ path: '/params/message', expected: 'a', actual: 'b' }]);
    expect(normaliser.compare(send('1'), send('6'), context, bindings)).toEqual([]);
  });

  it('matches placeholders against the live secret and fills them back in', () => {
    const bindings = new Bindings();
    const ctx = { dir: 'send' as const, method: 'display/get' };
    const recorded = { jsonrpc: '2.0', method: 'x', params: { url: 'https://h/plugin/1/custom/REDACTED-1/echo' } };
    expect(normaliser.compare(recorded, { ...recorded, params: { url: 'https://h/plugin/1/custom/Pabc/echo' } }, ctx, bindings)).toEqual([]);
    expect(normaliser.materialise({ text: 'token REDACTED-1' }, ctx, bindings)).toEqual({ text: 'token Pabc' });
    expect(normaliser.compare(recorded, { ...recorded, params: { url: 'https://h/plugin/2/custom/Pabc/echo' } }, ctx, bindings)[0]?.reason).toBe('differs outside the redacted parts');
  });

  it('checks match rules', () => {
    const ctx = { dir: 'recv' as const, method: 'log/write' };
    const log = (when: string) => ({ jsonrpc: '2.0', method: 'log/write', params: { when } });
    expect(normaliser.compare(log('2026-01-01'), log('2027-05-05'), ctx, new Bindings())).toEqual([]);
    expect(normaliser.compare(log('2026-01-01'), log('yesterday'), ctx, new Bindings())[0]?.reason).toBe('pattern');
  });
});

describe('TranscriptRecorder', () => {
  function record(drive: (r: TranscriptRecorder) => void): string {
    const lines: string[] = [];
    const recorder = new TranscriptRecorder({ write: (l) => lines.push(l), recordedBy: 'test', parseYaml, now: () => 1000 });
    drive(recorder);
    recorder.exit(0);
    return lines.join('\n');
  }
  const secret = 'a-very-secret-webhook-key';

  it('redacts webhook tokens, secret config values and credential headers; re-signs GitHub signatures', () => {
    const body = Buffer.from('{"zen":"x"}');
    const text = record((r) => {
      r.message('send', { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
      r.message('recv', { jsonrpc: '2.0', id: 1, result: { protocolVersion: '1.0', info: { modulePath: 'x/gh', name: 'gh' }, capabilities: [] } });
      r.message('send', { jsonrpc: '2.0', id: 2, method: 'instance/create', params: { instanceId: '1', user: { id: 1, name: 'a', admin: false }, webhookBasePath: '/plugin/4/custom/PsecretToken12345/' } });
      r.message('send', { jsonrpc: '2.0', id: 3, method: 'config/default', params: { instanceId: '1' } });
      r.message('recv', { jsonrpc: '2.0', id: 3, result: { config: 'secret: ""\n', secretKeys: ['secret'] } });
      r.message('send', { jsonrpc: '2.0', id: 4, method: 'config/validateAndSet', params: { instanceId: '1', config: `secret: ${secret}\n` } });
      r.message('send', {
        jsonrpc: '2.0',
        id: 5,
        method: 'webhook/request',
        params: {
          instanceId: '1',
          method: 'POST',
          path: '/webhook',
          query: '',
          headers: { authorization: 'Bearer abcdef123', 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` },
          body: body.toString('base64'),
        },
      });
      r.message('recv', { jsonrpc: '2.0', method: 'log/write', params: { level: 'info', message: `echoing ${secret} at /plugin/4/custom/PsecretToken12345/` } });
    });
    expect(text).not.toContain(secret);
    expect(text).not.toContain('PsecretToken12345');
    expect(text).not.toContain('abcdef123');
    const t = parseTranscript(text);
    expect(t.header.plugin).toEqual({ modulePath: 'x/gh', name: 'gh' });
    expect(t.header.redactions.map((r) => r.what)).toEqual(['webhook token', 'config key secret', 'authorization header']);
    const placeholder = t.header.redactions[1]!.placeholder;
    expect(placeholder).toHaveLength(secret.length);
    const webhook = t.entries.find((e) => 'msg' in e && e.msg.method === 'webhook/request') as unknown as { msg: { params: { headers: Record<string, string> } } };
    expect(webhook.msg.params.headers['x-hub-signature-256']).toBe(`sha256=${createHmac('sha256', placeholder).update(body).digest('hex')}`);
    expect(t.entries.at(-1)).toMatchObject({ event: 'exit', code: 0 });
  });

  it('redacts every value under a secret key that holds a mapping or a list (headers with tokens)', () => {
    const text = record((r) => {
      r.message('send', { jsonrpc: '2.0', id: 1, method: 'config/default', params: { instanceId: '1' } });
      r.message('recv', { jsonrpc: '2.0', id: 1, result: { config: 'headers: {}\n', secretKeys: ['headers'] } });
      const config = 'headers:\n  Authorization: Bearer tok-0123456789\n  X-Keys: [key-aaaa, key-bbbb]\n';
      const value = { headers: { Authorization: 'Bearer tok-0123456789', 'X-Keys': ['key-aaaa', 'key-bbbb'] } };
      r.message('send', { jsonrpc: '2.0', id: 2, method: 'config/validateAndSet', params: { instanceId: '1', config, value } });
    });
    for (const secret of ['tok-0123456789', 'key-aaaa', 'key-bbbb']) expect(text).not.toContain(secret);
    expect(parseTranscript(text).header.redactions.map((r) => r.what)).toEqual(['config key headers', 'config key headers', 'config key headers']);
  });

  it('redacts a secret number wherever it travels as a JSON number, and leaves short numbers alone', () => {
    const text = record((r) => {
      r.message('send', { jsonrpc: '2.0', id: 1, method: 'config/default', params: { instanceId: '1' } });
      r.message('recv', { jsonrpc: '2.0', id: 1, result: { config: 'pin: ""\n', secretKeys: ['pin', 'code'] } });
      r.message('send', { jsonrpc: '2.0', id: 2, method: 'config/validateAndSet', params: { instanceId: '1', config: 'pin: 73921\ncode: 12\n', value: { pin: 73921, code: 12 } } });
      r.message('recv', { jsonrpc: '2.0', id: 3, method: 'message/send', params: { instanceId: '1', message: { message: 'door', priority: 12, extras: { door: { pin: 73921 } } } } });
    });
    expect(text).not.toContain('73921');
    const entries = parseTranscript(text).entries.filter(isMessageEntry);
    const placeholder = parseTranscript(text).header.redactions[0]!.placeholder;
    expect((entries[2]!.msg.params as any).value).toEqual({ pin: placeholder, code: 12 });
    expect((entries[3]!.msg.params as any).message).toEqual({ message: 'door', priority: 12, extras: { door: { pin: placeholder } } });
  });
});
