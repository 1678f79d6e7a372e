import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_VOLATILE_RULES, FrameDecoder, encodeFrame, parseTranscript, type WireMessage } from '@flow/protocol';
import { replaySession } from './session.js';

/**
 * The replay rules of spec/transcripts.md §6 with both ends in this process: the live side is a
 * few lines of hand-written protocol over linked streams.
 */

const header = JSON.stringify({ flowTranscript: 1, protocolVersion: '1.0', recordedAt: '2026-01-01T00:00:00Z', recordedBy: 'test', volatile: DEFAULT_VOLATILE_RULES, redactions: [] });
const transcript = (...entries: object[]) => parseTranscript([header, ...entries.map((e) => JSON.stringify(e))].join('\n'));
const send = (msg: object) => ({ t: 0, dir: 'send', msg: { jsonrpc: '2.0', ...msg } });
const recv = (msg: object) => ({ t: 0, dir: 'recv', msg: { jsonrpc: '2.0', ...msg } });

/** Linked streams and a live peer that reacts to each message it reads. */
function live(react: (message: WireMessage, write: (m: object) => void) => void) {
  const toLive = new PassThrough();
  const fromLive = new PassThrough();
  const write = (m: object) => fromLive.write(encodeFrame({ jsonrpc: '2.0', ...m }));
  const decoder = new FrameDecoder({ message: (m) => react(m as WireMessage, write), error: () => undefined });
  toLive.on('data', (chunk: Buffer) => decoder.push(chunk));
  return { input: fromLive, output: toLive };
}

// Two instances' webhooks in flight; each makes the plugin call message/send, recorded 1 then 2.
const twoWebhooks = transcript(
  send({ id: 1, method: 'webhook/request', params: { instanceId: '1', path: '/a' } }),
  send({ id: 2, method: 'webhook/request', params: { instanceId: '2', path: '/b' } }),
  recv({ id: 10, method: 'message/send', params: { instanceId: '1', message: 'a' } }),
  send({ id: 10, result: { id: 100 } }),
  recv({ id: 11, method: 'message/send', params: { instanceId: '2', message: 'b' } }),
  send({ id: 11, result: { id: 101 } }),
  recv({ id: 1, result: { status: 200 } }),
  recv({ id: 2, result: { status: 201 } }),
);

describe('replaySession as the host', () => {
  it('accepts another global order across instances and responses in any order', async () => {
    const answers = new Map<unknown, unknown>();
    let webhooks: WireMessage[] = [];
    const wire = live((m, write) => {
      if (m.method === 'webhook/request') {
        webhooks.push(m);
        if (webhooks.length < 2) return;
        // Instance 2 first, with its own id scheme: not the recorded order, not the recorded ids.
        write({ id: 'x2', method: 'message/send', params: { instanceId: '2', message: 'b' } });
        write({ id: 'x1', method: 'message/send', params: { instanceId: '1', message: 'a' } });
        webhooks = webhooks.reverse();
      } else if (m.id === 'x1' || m.id === 'x2') {
        answers.set(m.id, m.result);
        if (answers.size === 2) for (const hook of webhooks) write({ id: hook.id, result: { status: (hook.params as { path: string }).path === '/a' ? 200 : 201 } });
      }
    });
    const result = await replaySession(twoWebhooks, wire, { role: 'host', stepTimeoutMs: 2000 });
    expect(result).toEqual({ ok: true, steps: 8, total: 8 });
    // The plugin's calls were answered from the transcript, under its own ids.
    expect(answers).toEqual(new Map<unknown, unknown>([['x2', { id: 101 }], ['x1', { id: 100 }]]));
  });

  it('fails when a response differs, naming the line and the method it answers', async () => {
    const wire = live((m, write) => {
      if (m.method === 'webhook/request' && (m.params as { path: string }).path === '/a') write({ id: 50, method: 'message/send', params: { instanceId: '1', message: 'a' } });
      if (m.id === 50) write({ id: 1, result: { status: 500 } });
    });
    const result = await replaySession(twoWebhooks, wire, { role: 'host', stepTimeoutMs: 2000 });
    expect(result.ok).toBe(false);
    expect(result.failure?.kind).toBe('mismatch');
    expect(result.failure?.message).toMatch(/^line 8 \(plugin → host, response to webhook\/request, instance "1"\): the plugin's message differs from the transcript\n {2}\/result\/status: expected 200, got 500/);
  });
});

describe('replaySession as the plugin (fake)', () => {
  it('binds the host\'s own instance ids and sends them back in its calls', async () => {
    const fake = transcript(
      send({ id: 1, method: 'instance/create', params: { instanceId: '1', user: { id: 1, name: 'a', admin: false }, webhookBasePath: '/plugin/1/custom/T/' } }),
      recv({ id: 1, result: {} }),
      send({ id: 2, method: 'webhook/request', params: { instanceId: '1', path: '/a' } }),
      recv({ id: 7, method: 'message/send', params: { instanceId: '1', message: 'a' } }),
      send({ id: 7, result: { id: 100 } }),
      recv({ id: 2, result: { status: 200 } }),
    );
    const seen: WireMessage[] = [];
    const wire = live((m, write) => {
      seen.push(m);
      if (m.id === 1) write({ id: 'w', method: 'webhook/request', params: { instanceId: '42', path: '/a' } });
      if (m.method === 'message/send') write({ id: m.id, result: { id: 9000 } });
    });
    wire.input.write(encodeFrame({ jsonrpc: '2.0', id: 1, method: 'instance/create', params: { instanceId: '42', user: { id: 3, name: 'a', admin: false }, webhookBasePath: '/plugin/42/custom/T/' } }));
    const result = await replaySession(fake, wire, { role: 'plugin', stepTimeoutMs: 2000 });
    expect(result.failure).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(seen.map((m) => m.params ?? m.result)).toEqual([{}, { instanceId: '42', message: 'a' }, { status: 200 }]);
    expect(seen[2]!.id).toBe('w');
  });
});
