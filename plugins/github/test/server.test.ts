import { createHmac } from 'node:crypto';
import { readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookUrl, pluginsDir, startPluginServer, type PluginServer } from '../../../test/helpers/plugins.js';

const EXECUTABLE = fileURLToPath(new URL('../dist/flow-github.mjs', import.meta.url));
const SECRET = 'server-test-secret-0123456789';
const fixture = (name: string) => readFile(new URL(`./fixtures/${name}.json`, import.meta.url));
// Signed here with node:crypto, independently of the plugin's own code.
const sign = (body: Buffer | string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

describe('github in a real server', () => {
  let s: PluginServer;
  let plugin: { id: number; token: string };
  const payloadUrl = () => hookUrl(s, plugin, 'webhook');
  const messageCount = async () => (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages.length as number;

  function deliver(event: string, body: Buffer | string, signature: string | null = sign(body)): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': crypto.randomUUID(), 'user-agent': 'GitHub-Hookshot/abc123' };
    if (signature !== null) headers['x-hub-signature-256'] = signature;
    return fetch(payloadUrl(), { method: 'POST', headers, body });
  }

  beforeAll(async () => {
    const dir = await pluginsDir();
    await symlink(EXECUTABLE, path.join(dir, 'flow-github.mjs'));
    s = await startPluginServer(dir);
    plugin = (await s.plugins()).find((p: { modulePath: string }) => p.modulePath === 'github.com/flow/plugins/github');
    expect(plugin).toBeDefined();
    const config = await s.api('POST', `/plugin/${plugin.id}/config`, { auth: s.adminAuth, body: `secret: ${SECRET}\n`, headers: { 'content-type': 'application/x-yaml' } });
    expect(config.status).toBe(200);
    expect((await s.api('POST', `/plugin/${plugin.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
  });
  afterAll(async () => {
    await s?.close(); // also removes the plugins folder
  });

  it('display: the absolute payload URL and the setup steps', async () => {
    const res = await s.api('GET', `/plugin/${plugin.id}/display`, { auth: s.adminAuth });
    expect(res.body).toContain(`\`${payloadUrl()}\``);
    expect(res.body).toContain('`application/json`');
    expect(res.body).not.toContain(SECRET);
  });

  it('a signed workflow_run failure arrives as a markdown message with a click URL', async () => {
    const client = await s.createClient('github test');
    const stream = await s.openStream(client.token);
    const res = await deliver('workflow_run', await fixture('workflow_run.failure'));
    expect(res.status).toBe(200);
    const live = await stream.next();
    stream.close();
    expect(live).toMatchObject({ title: 'octo-org/flow: CI failed on main', priority: 8 });
    const stored = (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages[0];
    expect(stored.id).toBe(live.id);
    expect(stored.extras).toEqual({
      'client::display': { contentType: 'text/markdown' },
      'client::notification': { click: { url: 'https://github.com/octo-org/flow/actions/runs/8512345678' } },
    });
    expect(stored.message).toContain('[CI \\#318](https://github.com/octo-org/flow/actions/runs/8512345678)');
  });

  it('push and pull_request with hostile text: escaped, linked to the change', async () => {
    expect((await deliver('push', await fixture('push'))).status).toBe(200);
    expect((await deliver('pull_request', await fixture('pull_request.opened'))).status).toBe(200);
    const [pr, push] = (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages;
    expect(push.extras['client::notification'].click.url).toBe('https://github.com/octo-org/flow/compare/6113728f27ae...0d1a26e67d8f');
    expect(push.message).toContain('Fix the \\[login\\]\\(https\\:\\/\\/evil\\.example\\/phish\\)');
    expect(pr.extras['client::notification'].click.url).toBe('https://github.com/octo-org/flow/pull/42');
    expect(pr.message).not.toContain('<script>');
  });

  it('refuses unsigned and wrongly signed deliveries with 401, no message', async () => {
    const before = await messageCount();
    const body = await fixture('push');
    expect((await deliver('push', body, null)).status).toBe(401);
    expect((await deliver('push', body, sign('a different body'))).status).toBe(401);
    expect((await deliver('push', body, 'sha256=' + 'f'.repeat(64))).status).toBe(401);
    expect(await messageCount()).toBe(before);
  });

  it('unknown event → 204, malformed JSON → 400, neither sends a message', async () => {
    const before = await messageCount();
    const star = await deliver('star', '{"action":"created"}');
    expect(star.status).toBe(204);
    const broken = await deliver('issues', '{"action": "opened", "issue": ');
    expect(broken.status).toBe(400);
    expect(await broken.text()).toContain('malformed payload');
    expect(await messageCount()).toBe(before);
  });
});
