import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOLDEN_DIR, SCENARIOS } from '../golden/scenarios.js';
import { flowPlugin } from '../helpers/flow-plugin.js';
import { GO_SUITE_RUNS, isGoPackage } from '../helpers/go.js';
import { pluginCommands } from '../helpers/plugin-commands.js';

/**
 * The golden transcripts (test/golden/*.jsonl, recorded by `npm run golden:record`) replayed
 * against today's plugins: a change in what a plugin says on the wire fails here with a diff.
 */

const goldens = readdirSync(GOLDEN_DIR).filter((file) => file.endsWith('.jsonl')).map((file) => file.replace(/\.jsonl$/, ''))
  // Go plugins' transcripts belong to the Go suite (test/helpers/go.ts).
  .filter((name) => GO_SUITE_RUNS || !isGoPackage(path.join(GOLDEN_DIR, '../../plugins', name)));
// How long the replay waits for the plugin's next move: a bound against a hang, not a speed target.
// The default (5 s) is shorter than a cold Python or Go start on a machine whose cores are busy;
// the replay moves on as soon as the plugin answers, so a passing run is no slower for it.
const STEP = '20000';
// A whole scenario is dozens of such steps.
const REPLAY_BOUND = { timeout: 120_000 };

describe('golden transcripts', () => {
  it('exist for every plugin in plugins/', () => {
    const missing = pluginCommands().map((p) => p.name).filter((name) => !goldens.includes(name));
    expect(missing, 'add a scenario to test/golden/scenarios.ts, then `npm run golden:record -- <name>`').toEqual([]);
  });

  for (const name of goldens) {
    it(`replays ${name}.jsonl against the plugin`, REPLAY_BOUND, async () => {
      const scenario = SCENARIOS[name];
      expect(scenario, `test/golden/${name}.jsonl has no scenario in scenarios.ts`).toBeDefined();
      const result = await flowPlugin(['replay', '--step-timeout', STEP, path.join(GOLDEN_DIR, `${name}.jsonl`), '--', ...scenario!.command]);
      expect(result.stderr, `plugins/${name} says something else on the wire than test/golden/${name}.jsonl; if that is intended, re-record: npm run golden:record -- ${name}`).toBe('');
      expect(result.code).toBe(0);
    });
  }

  it('fail with a readable diff when the plugin\'s behaviour changed', REPLAY_BOUND, async () => {
    // Changing the recording is the same as changing the plugin: the two disagree.
    const dir = await mkdtemp(path.join(tmpdir(), 'flow-golden-'));
    try {
      const lines = (await readFile(path.join(GOLDEN_DIR, 'echo.jsonl'), 'utf8')).trimEnd().split('\n');
      const index = lines.findIndex((line) => line.includes('"method":"message/send"') && line.includes('"dir":"recv"'));
      lines[index] = lines[index]!.replace('"priority":2', '"priority":3');
      const file = path.join(dir, 'echo.jsonl');
      await writeFile(file, `${lines.join('\n')}\n`);
      const result = await flowPlugin(['replay', '--step-timeout', STEP, file, '--', ...SCENARIOS.echo!.command]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`line ${index + 1} (plugin → host, message/send, instance "1"): the plugin's message differs from the transcript`);
      expect(result.stderr).toContain('/params/priority: expected 3, got 2');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
