import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCRIPTED_PLUGIN, flowPlugin } from '../helpers/flow-plugin.js';
import { PYTHON, pluginCommands } from '../helpers/plugin-commands.js';

/** `flow-plugin check`: every plugin in plugins/, whatever its language, passes the whole kit (transcripts and live cases). */

const TRANSCRIPT_CASES = ['handshake', 'version-mismatch', 'unknown-method', 'unknown-instance', 'cancellation', 'shutdown', 'stdin-eof', 'stdout-frames'];
const LIVE_CASES = ['bad-input-garbage', 'bad-input-too-large', 'bad-input-half-frame', 'not-initialized', 'second-initialize', 'id-zero', 'slow-host-call', 'shutdown-in-flight'];
// A bound for each awaited answer, not a speed target: generous, so a loaded machine passes what
// works (the checks run side by side, each starting a process per case: 15 s was missed at load ~25).
// The runner moves on as soon as the plugin answers, so a passing run is no slower for it.
const STEP = '30000';
// The spec's Python example fails six of its baseline's cases by NOT answering, so each of them
// waits the whole step bound: at 30 s that made this one check four minutes, the longest file of
// the suite. A Python process answers a ping well within 10 s even on a loaded machine.
const EXAMPLE_STEP = '10000';
const EXAMPLE = fileURLToPath(new URL('../../spec/examples/echo_plugin.py', import.meta.url));
const EXAMPLE_BASELINE = fileURLToPath(new URL('../../spec/examples/echo_plugin.expected-failures', import.meta.url));

// Each check starts a process per case (dozens per plugin): they run side by side, most of it is waiting.
describe.concurrent('flow-plugin check', () => {
  for (const { name, command } of pluginCommands()) {
    it(`passes every conformance case: ${name}`, { timeout: 600_000 }, async () => {
      expect(command, `plugins/${name} has no runnable entry (dist/flow-${name}.mjs or ${name}.py): build it first`).toBeDefined();
      const result = await flowPlugin(['check', '--step-timeout', STEP, '--', ...command!]);
      expect(result.stdout, result.stdout).not.toMatch(/^ {2}(FAIL|XFAL|XPAS) /m);
      for (const name of [...TRANSCRIPT_CASES, ...LIVE_CASES]) expect(result.stdout).toMatch(new RegExp(`(PASS|N/A ) {2}${name} `));
      expect(result.stdout).toMatch(/^(\d+)\/\1 passed$/m);
      expect(result.code).toBe(0);
    });
  }

  it("passes the spec's Python example, with its baseline of known failures", { timeout: 600_000 }, async () => {
    const result = await flowPlugin(['check', '--step-timeout', EXAMPLE_STEP, '--expected-failures', EXAMPLE_BASELINE, '--', PYTHON, EXAMPLE]);
    expect(result.stdout, result.stdout).not.toMatch(/^ {2}(FAIL|XPAS) /m);
    expect(result.stdout).toMatch(/XFAL {2}bad-input-charset /);
    for (const name of TRANSCRIPT_CASES) expect(result.stdout).toMatch(new RegExp(`PASS {2}${name} `));
    expect(result.code).toBe(0);
  });

  it('refuses a baseline naming a case that does not exist', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flow-baseline-'));
    const file = path.join(dir, 'expected');
    await writeFile(file, '# known\nhandshake\nno-such-case\n');
    const result = await flowPlugin(['check', '--expected-failures', file, '--', PYTHON, EXAMPLE]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the baseline names cases that do not exist: no-such-case/);
    await rm(dir, { recursive: true });
  });

  it('fails a run where a baseline case passes now, so the baseline shrinks', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flow-baseline-'));
    const file = path.join(dir, 'expected');
    await writeFile(file, 'id-zero\n');
    const result = await flowPlugin(['check', '--step-timeout', EXAMPLE_STEP, '--only', 'id-zero', '--expected-failures', file, '--', PYTHON, EXAMPLE]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/XPAS {2}id-zero /);
    expect(result.stdout).toMatch(/id-zero passes now: remove it from the baseline/);
    await rm(dir, { recursive: true });
  });

  it('fails a plugin that blocks its reader while its host call is pending', { timeout: 120_000 }, async () => {
    const result = await flowPlugin(['check', '--only', 'slow-host-call', '--step-timeout', '2000', '--', process.execPath, SCRIPTED_PLUGIN, 'blocks-reader']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL {2}slow-host-call +ping was not answered within 2000 ms while the plugin waited for its kv\/get call: its reader blocks/);
  });

  it('fails a plugin that writes stray bytes to stdout, naming the cases and the bytes', { timeout: 120_000 }, async () => {
    const result = await flowPlugin(['check', '--only', 'handshake,version-mismatch', '--step-timeout', STEP, '--', process.execPath, SCRIPTED_PLUGIN, 'garbage']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL {2}handshake +the plugin wrote something that is not a Content-Length frame: .*hello from a stray console\.log/);
    // Version mismatch never reaches the stray write, so that case passes: one table row per case.
    expect(result.stdout).toMatch(/PASS {2}version-mismatch /);
    expect(result.stdout).toContain('1/2 passed');
  });

  it('fails a plugin that does not exit on stdin EOF, and one that answers the wrong version', { timeout: 120_000 }, async () => {
    // The step deadline also bounds the handshake before it: 10 s, so a start on busy cores is not
    // taken for the missing exit (the checks beside this one take longer anyway).
    const deaf = await flowPlugin(['check', '--only', 'stdin-eof', '--step-timeout', '10000', '--', process.execPath, SCRIPTED_PLUGIN, 'deaf-eof']);
    expect(deaf.code).toBe(1);
    expect(deaf.stdout).toMatch(/FAIL {2}stdin-eof +line \d+ \(the plugin exits with code 1\): the plugin did nothing for 10000 ms/);
    const refuses = await flowPlugin(['check', '--only', 'handshake', '--step-timeout', STEP, '--', process.execPath, SCRIPTED_PLUGIN, 'bad-version']);
    expect(refuses.code).toBe(1);
    expect(refuses.stdout).toMatch(/\/error: not in the transcript, got \{"code":1005/);
  });
});
