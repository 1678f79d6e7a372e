import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHost } from '@flow/plugin-kit/testing';
import { FLOW_PLUGIN_CLI, SCRIPTED_PLUGIN, flowPlugin } from '../helpers/flow-plugin.js';

/**
 * `flow-plugin record` then `flow-plugin replay` against a raw (kit-less) plugin whose
 * misbehaviour is chosen by argument: the exit codes and messages a plugin author sees.
 */

let dir: string;
let transcript: string;
const scripted = (mode: string) => ['--', process.execPath, SCRIPTED_PLUGIN, mode];
// The replay's wait for the plugin's next move where the test is not about that deadline: a bound
// against a hang (the default 5 s is less than a node start on a machine whose cores are busy).
const STEP = ['--step-timeout', '20000'];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flow-replay-'));
  transcript = path.join(dir, 'session.jsonl');
  const host = await createTestHost({ command: [process.execPath, FLOW_PLUGIN_CLI, 'record', '--out', transcript, '--', process.execPath, SCRIPTED_PLUGIN, 'good'] });
  const a = await host.createInstance({ user: { id: 1, name: 'alice' } });
  const b = await host.createInstance({ user: { id: 2, name: 'bob' } });
  await a.enable();
  await b.enable();
  // Two instances' webhooks in flight at once: their calls interleave differently on every run.
  await Promise.all([a.webhook({ path: '/a' }), b.webhook({ path: '/b' })]);
  expect(await host.close()).toBe(0);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('flow-plugin replay', () => {
  it('exits 0 when the plugin says what was recorded', async () => {
    const result = await flowPlugin(['replay', ...STEP, transcript, ...scripted('good')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/entries replayed, the plugin matches the transcript/);
  });

  it('answers the plugin\'s own calls from the transcript (message/send and kv/set were recorded)', async () => {
    const text = await readFile(transcript, 'utf8');
    expect(text.match(/"id":\d+,"method":"message\/send"/g)).toHaveLength(2);
    expect(text.match(/"id":\d+,"method":"kv\/set"/g)).toHaveLength(4);
    expect(text.trimEnd().split('\n').at(-1)).toBe(JSON.stringify({ t: JSON.parse(text.trimEnd().split('\n').at(-1)!).t, event: 'exit', code: 0, signal: null }));
  });

  it('exits 1 with a diff naming the line, method, instance and both messages', async () => {
    const result = await flowPlugin(['replay', ...STEP, transcript, ...scripted('differ')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line \d+ \(plugin → host, message\/send, instance "[12]"\): the plugin's message differs from the transcript/);
    expect(result.stderr).toMatch(/\/params\/message: expected "webhook hit", got "webhook hit!"/);
    expect(result.stderr).toMatch(/expected \(line \d+\):\n {2}\{/);
  });

  it('exits 1 when calls of one instance come out of order', async () => {
    const result = await flowPlugin(['replay', ...STEP, transcript, ...scripted('swap')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line \d+ \(plugin → host, kv\/set, instance "[12]"\): expected this next, but the plugin sent what the transcript has on line \d+ first/);
  });

  it('exits 1 naming the awaited line when the plugin hangs (step deadline)', async () => {
    const result = await flowPlugin(['replay', '--step-timeout', '2000', transcript, ...scripted('hang')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line \d+ \(plugin → host, message\/send, instance "[12]"\): the plugin did nothing for 2000 ms while this was expected/);
  });

  it('exits 1 naming the awaited line when the plugin crashes', async () => {
    const result = await flowPlugin(['replay', ...STEP, transcript, ...scripted('crash')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line \d+ \(plugin → host, response to instance\/create, instance "1"\): the plugin exited with code 3 before this happened/);
  });

  it('exits 1 when the plugin writes anything but frames to stdout', async () => {
    const result = await flowPlugin(['replay', ...STEP, transcript, ...scripted('garbage')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the plugin wrote something that is not a Content-Length frame: .*hello from a stray console\.log/);
  });

  it('exits 2 naming the line of a truncated transcript', async () => {
    const text = await readFile(transcript, 'utf8');
    const truncated = path.join(dir, 'truncated.jsonl');
    await writeFile(truncated, text.slice(0, Math.floor(text.length / 2)));
    const lines = text.slice(0, Math.floor(text.length / 2)).split('\n').length;
    const result = await flowPlugin(['replay', ...STEP, truncated, ...scripted('good')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`truncated.jsonl: line ${lines}: not valid JSON (the file looks truncated)`);
  });

  it('exits 2 naming the line of a hand-edited transcript', async () => {
    const lines = (await readFile(transcript, 'utf8')).trimEnd().split('\n');
    const index = lines.findIndex((l) => l.includes('"dir":"recv"') && l.includes('"result"'));
    const entry = JSON.parse(lines[index]!);
    entry.msg.id = 4242;
    lines[index] = JSON.stringify(entry);
    const edited = path.join(dir, 'edited.jsonl');
    await writeFile(edited, `${lines.join('\n')}\n`);
    const result = await flowPlugin(['replay', ...STEP, edited, ...scripted('good')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`line ${index + 1}: response to id 4242, but no host request with that id is waiting`);
  });

  it('exits 2 on a usage error', async () => {
    const result = await flowPlugin(['replay', transcript]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/need one transcript file, then -- and the plugin command/);
  });
});
