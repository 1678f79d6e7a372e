import { createHmac } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTranscript } from '@flow/protocol';
import { FLOW_PLUGIN_CLI, flowPlugin } from '../helpers/flow-plugin.js';
import { hookUrl, pluginsDir, startPluginServer, type PluginServer } from '../helpers/plugins.js';
import { pluginCommands } from '../helpers/plugin-commands.js';

/**
 * Recording in the real server (`recording.dir`), then both replays:
 * - the recorded session against the echo plugin (`flow-plugin replay`): the plugin side;
 * - the recorded plugin side against a new server (`flow-plugin fake` as its plugin): the host
 *   must send the same calls, in the same per-instance order, for the same HTTP scenario.
 */

const echo = pluginCommands().find((p) => p.name === 'echo')!.command!;
// The replay's wait for the plugin's next move: a bound against a hang, not a speed target (the
// default 5 s is less than a plugin's start on a machine whose cores are busy).
const REPLAY_STEP = '20000';
let work: string;
let recorded: string;
let secretsSeen: string[];

/** Two users, echo configured, enabled, called and displayed for the admin; then the server stops. */
async function scenario(s: PluginServer): Promise<void> {
  const bob = await s.createUser('bob');
  const [conf] = await s.plugins();
  expect((await s.api('POST', `/plugin/${conf.id}/config`, { auth: s.adminAuth, body: 'magic_string: recorded', headers: { 'content-type': 'application/x-yaml' } })).status).toBe(200);
  expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
  const hook = await fetch(hookUrl(s, conf, 'echo'));
  expect(await hook.text()).toBe('recorded');
  expect((await s.api('GET', `/plugin/${conf.id}/display`, { auth: s.adminAuth })).status).toBe(200);
  expect((await s.plugins(bob.auth)).length).toBe(1);
  secretsSeen.push(conf.token);
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'flow-record-'));
  secretsSeen = [];
  const dir = await pluginsDir();
  await symlink(echo[1]!, path.join(dir, 'echo'));
  const recordings = path.join(work, 'recordings');
  const s = await startPluginServer(dir, { 'recording.dir': recordings });
  await scenario(s);
  await s.close();
  const files = await readdir(recordings);
  expect(files).toHaveLength(1);
  recorded = path.join(recordings, files[0]!);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('recording.dir', () => {
  it('writes one transcript per plugin process, secrets redacted, ending with the exit', async () => {
    const text = await readFile(recorded, 'utf8');
    for (const secret of secretsSeen) expect(text).not.toContain(secret);
    const transcript = parseTranscript(text);
    expect(transcript.header.recordedBy).toMatch(/^flow-server /);
    expect(transcript.header.plugin?.modulePath).toBe('github.com/flow/plugins/echo');
    expect(transcript.header.redactions.map((r) => r.what)).toContain('webhook token');
    const methods = transcript.entries.flatMap((e) => ('msg' in e && typeof e.msg.method === 'string' ? [e.msg.method] : []));
    expect(methods).toEqual(expect.arrayContaining(['initialize', 'instance/create', 'config/validateAndSet', 'instance/enable', 'webhook/request', 'message/send', 'display/get', 'shutdown', 'exit']));
    expect(methods.filter((m) => m === 'instance/create')).toHaveLength(2);
    expect(transcript.entries.at(-1)).toMatchObject({ event: 'exit', code: 0 });
  });

  it('replays against the plugin it was recorded from', async () => {
    const result = await flowPlugin(['replay', '--step-timeout', REPLAY_STEP, recorded, '--', ...echo]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('recording.dir with secrets', () => {
  it('redacts a plugin\'s secret config values and re-signs deliveries, so the replay still verifies them', async () => {
    const github = pluginCommands().find((p) => p.name === 'github')!.command!;
    const dir = await pluginsDir();
    await symlink(github[1]!, path.join(dir, 'github'));
    const recordings = path.join(work, 'github-recordings');
    const s = await startPluginServer(dir, { 'recording.dir': recordings });
    const secret = 'server-side-secret-0123456789';
    let token = '';
    try {
      const [conf] = await s.plugins();
      token = conf.token;
      expect((await s.api('POST', `/plugin/${conf.id}/config`, { auth: s.adminAuth, body: `secret: ${secret}\n`, headers: { 'content-type': 'application/x-yaml' } })).status).toBe(200);
      expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
      const body = JSON.stringify({ zen: 'Design for failure.', hook_id: 2, repository: { full_name: 'flow/rec', html_url: 'https://github.com/flow/rec' } });
      const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      const delivery = await fetch(hookUrl(s, conf, 'webhook'), { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-hub-signature-256': signature } });
      expect(delivery.status).toBe(200);
    } finally {
      await s.close();
    }
    const [file] = await readdir(recordings);
    const text = await readFile(path.join(recordings, file!), 'utf8');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(token);
    expect(text).toMatch(/"what":"(config key secret|secret config value)"/);
    const result = await flowPlugin(['replay', '--step-timeout', REPLAY_STEP, path.join(recordings, file!), '--', ...github]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('flow-plugin fake in the server', () => {
  async function serveFake(run: (s: PluginServer) => Promise<void>): Promise<{ ok: boolean; failure?: { message: string } }> {
    const dir = await pluginsDir();
    const folder = path.join(dir, 'echo-fake');
    const report = path.join(work, `report-${Date.now()}.json`);
    await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    await writeFile(
      path.join(folder, 'plugin.yaml'),
      `command: ${process.execPath}\nargs: ${JSON.stringify([FLOW_PLUGIN_CLI, 'fake', '--transcript', recorded, '--report', report])}\n`,
    );
    const s = await startPluginServer(dir);
    try {
      await run(s);
    } finally {
      await s.close();
    }
    return JSON.parse(await readFile(report, 'utf8'));
  }

  it('sees the same host calls, per instance in the same order, for the same scenario', async () => {
    const verdict = await serveFake(scenario);
    expect(verdict.failure?.message).toBeUndefined();
    expect(verdict.ok).toBe(true);
  });

  it('names the first host call that differs when the scenario changes', async () => {
    const verdict = await serveFake(async (s) => {
      await s.createUser('bob');
      const [conf] = await s.plugins();
      // The recording has the config set before the enable; this run enables with the stored default.
      await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth });
    });
    expect(verdict.ok).toBe(false);
    expect(verdict.failure?.message).toMatch(/^line \d+ \(host → plugin, config\/validateAndSet, instance "1"\)/);
  });
});
