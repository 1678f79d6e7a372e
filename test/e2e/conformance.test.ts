import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCRIPTED_PLUGIN, flowPlugin } from '../helpers/flow-plugin.js';
import { pluginCommands } from '../helpers/plugin-commands.js';

/** `flow-plugin check`: every plugin in plugins/, whatever its language, passes the v1 kit. */

const CASES = ['handshake', 'version-mismatch', 'unknown-method', 'unknown-instance', 'cancellation', 'shutdown', 'stdin-eof', 'stdout-frames'];

describe('flow-plugin check', () => {
  for (const { name, command } of pluginCommands()) {
    it(`passes every conformance case: ${name}`, async () => {
      expect(command, `plugins/${name} has no runnable entry (dist/flow-${name}.mjs or ${name}.py): build it first`).toBeDefined();
      const result = await flowPlugin(['check', '--', ...command!]);
      expect(result.stdout).toContain(`${CASES.length}/${CASES.length} passed`);
      for (const name of CASES) expect(result.stdout).toMatch(new RegExp(`PASS {2}${name} `));
      expect(result.code).toBe(0);
    });
  }

  it('passes every conformance case: the spec\'s Python example (spec/examples/echo_plugin.py)', async () => {
    const result = await flowPlugin(['check', '--', 'python3', fileURLToPath(new URL('../../spec/examples/echo_plugin.py', import.meta.url))]);
    expect(result.stdout).toContain(`${CASES.length}/${CASES.length} passed`);
    expect(result.code).toBe(0);
  });

  it('fails a plugin that writes stray bytes to stdout, naming the cases and the bytes', async () => {
    const result = await flowPlugin(['check', '--only', 'handshake,version-mismatch', '--', process.execPath, SCRIPTED_PLUGIN, 'garbage']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL {2}handshake +the plugin wrote something that is not a Content-Length frame: .*hello from a stray console\.log/);
    // Version mismatch never reaches the stray write, so that case passes: one table row per case.
    expect(result.stdout).toMatch(/PASS {2}version-mismatch /);
    expect(result.stdout).toContain('1/2 passed');
  });

  it('fails a plugin that does not exit on stdin EOF, and one that answers the wrong version', async () => {
    const deaf = await flowPlugin(['check', '--only', 'stdin-eof', '--step-timeout', '2000', '--', process.execPath, SCRIPTED_PLUGIN, 'deaf-eof']);
    expect(deaf.code).toBe(1);
    expect(deaf.stdout).toMatch(/FAIL {2}stdin-eof +line \d+ \(the plugin exits with code 1\): the plugin did nothing for 2000 ms/);
    const refuses = await flowPlugin(['check', '--only', 'handshake', '--', process.execPath, SCRIPTED_PLUGIN, 'bad-version']);
    expect(refuses.code).toBe(1);
    expect(refuses.stdout).toMatch(/\/error: not in the transcript, got \{"code":1005/);
  });
});
