import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestHost } from '@flow/plugin-kit/testing';
import { GOLDEN_DIR, SCENARIOS } from '../golden/scenarios.js';
import { FLOW_PLUGIN_CLI } from '../helpers/flow-plugin.js';

/**
 * `flow-plugin fake`: the plugin side of a transcript played to a host. Here the host is the
 * kit's test host running a golden scenario; test/e2e/replay-host.test.ts does it with the server.
 */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flow-fake-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fake = (name: string, report: string) => [process.execPath, FLOW_PLUGIN_CLI, 'fake', '--transcript', path.join(GOLDEN_DIR, `${name}.jsonl`), '--report', report, '--step-timeout', '2000'];

describe('flow-plugin fake', () => {
  it('passes when the host sends what the recorded host sent, answering from the transcript', async () => {
    const report = path.join(dir, 'report.json');
    const host = await createTestHost({ command: fake('echo', report), protocolVersions: ['1.0'] }); // the golden transcript was recorded from a 1.0 host
    await SCENARIOS.echo!.run(host);
    // The answers are the recorded plugin's: the fake really plays echo.
    expect(host.messages.map((m) => m.message)).toEqual(['echo server received a hello message 1 times', 'echo server received a hello message 2 times']);
    expect(await host.close()).toBe(0);
    expect(host.violations).toEqual([]);
    expect(JSON.parse(await readFile(report, 'utf8'))).toMatchObject({ ok: true });
  });

  it('reports the first host call that differs, naming the line, and exits 1', async () => {
    const report = path.join(dir, 'report.json');
    const host = await createTestHost({ command: fake('echo', report), protocolVersions: ['1.0'] }); // the golden transcript was recorded from a 1.0 host
    const a = await host.createInstance({ user: { id: 1, name: 'alice', admin: true } });
    await host.createInstance({ user: { id: 2, name: 'bob' } });
    // The recording asks for the default config first; this host skips straight to enable.
    await expect(a.enable()).rejects.toThrow();
    expect(await host.exited).toBe(1);
    const verdict = JSON.parse(await readFile(report, 'utf8'));
    expect(verdict.ok).toBe(false);
    expect(verdict.failure.kind).toBe('out-of-order');
    expect(verdict.failure.message).toMatch(/^line \d+ \(host → plugin, config\/default, instance "1"\): expected this next, but the host sent what the transcript has on line \d+ first/);
    expect(verdict.failure.message).toMatch(/actual:\n[\s\S]*"method": "instance\/enable"/);
    await host.close();
  });
});
