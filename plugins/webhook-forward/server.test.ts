import { symlink } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookUrl, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../../test/helpers/plugins.js';

// webhook-forward (written with the Python kit) in a real server, linked into the plugins folder as
// its folder: plugin.yaml runs dist/flow-webhook-forward.pyz with python3. Messages the user posts
// are delivered to a real HTTP receiver on the loopback interface.
const FOLDER = fileURLToPath(new URL('.', import.meta.url));
const MODULE = 'github.com/flow/plugins/webhook-forward';

interface Delivery {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('webhook-forward in the real server', () => {
  let s: PluginServer;
  let receiver: Server;
  let receiverUrl: string;
  const deliveries: Delivery[] = [];
  /** Statuses the receiver answers with, in order; 200 once they are used up. */
  const statuses: number[] = [];
  let wf: any;

  const config = (yaml: string) => s.api('POST', `/plugin/${wf.id}/config`, { auth: s.adminAuth, body: yaml, headers: { 'Content-Type': 'application/x-yaml' } });
  const display = async () => (await s.api('GET', `/plugin/${wf.id}/display`, { auth: s.adminAuth })).body as string;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        deliveries.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        res.writeHead(statuses.shift() ?? 200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    const dir = await pluginsDir();
    await symlink(FOLDER, path.join(dir, 'webhook-forward'));
    s = await startPluginServer(dir);
    wf = (await s.plugins()).find((p) => p.modulePath === MODULE);
  });
  afterAll(async () => {
    await s?.close();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  });

  it('is listed for admins only, with its schema; enabling without a url is refused with the reason', async () => {
    expect(wf).toMatchObject({ name: 'webhook-forward', enabled: false, status: 'running', capabilities: ['configurer', 'displayer', 'messenger', 'storager', 'webhooker', 'subscriber'] });
    const bob = await s.createUser('bob');
    expect((await s.plugins(bob.auth)).map((p) => p.modulePath)).not.toContain(MODULE);
    const schema = await s.api('GET', `/plugin/${wf.id}/configschema`, { auth: s.adminAuth });
    expect(schema.status).toBe(200);
    expect(schema.body.properties.url.type).toBe('string');
    expect((await s.api('GET', `/plugin/${wf.id}/config`, { auth: s.adminAuth })).text).toContain('min_priority: 0');
    const refused = await s.api('POST', `/plugin/${wf.id}/enable`, { auth: s.adminAuth });
    expect(refused.status).toBe(500);
    expect(refused.body.errorDescription).toBe('url is not set: set url in the configuration first');
    expect(await display()).toContain('Not forwarding: set `url` in the configuration');
  });

  it('refuses bad config with every issue (schema) or the plugin\'s reason', async () => {
    const bad = await config('url: ftp://example.com/\nmethod: GET\nretries: 99\nheaders: {X-A: 1}\n');
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(['/headers/X-A', '/method', '/retries', '/url']);
    const template = await config(`url: ${receiverUrl}\ntemplate: '{"t": "{{nope}}"}'\n`);
    expect(template.status).toBe(400);
    expect(template.body.errorDescription).toMatch(/^template: unknown placeholder \{\{nope\}\}/);
    const notJson = await config(`url: ${receiverUrl}\ntemplate: '{"t": {{title}}}'\n`);
    expect(notJson.status).toBe(400);
    expect(notJson.body.errorDescription).toMatch(/^template: with content_type application\/json it must give JSON/);
  });

  it('forwards the user\'s messages at or above min_priority, retrying a 503, with headers and template', async () => {
    const yaml = [
      `url: ${receiverUrl}`,
      'headers:',
      '  X-Token: abc',
      `template: '{"text": "{{title}}: {{message}}", "p": {{priority}}, "by": "{{user}}"}'`,
      'min_priority: 3',
      'retries: 2',
      'backoff: 0.05',
      '',
    ].join('\n');
    expect((await config(yaml)).status).toBe(200);
    expect((await s.api('POST', `/plugin/${wf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    const app = await s.createApp({ name: 'backup' });
    statuses.push(503);
    expect((await s.api('POST', '/message', { token: app.token, json: { message: 'too low', priority: 1 } })).status).toBe(200);
    expect((await s.api('POST', '/message', { token: app.token, json: { title: 'Disk "full"', message: 'line 1\nline 2', priority: 5 } })).status).toBe(200);
    await waitFor(() => deliveries.length >= 2, 'the delivery and its retry');
    // Messages reach the plugin in order: the low one would have come first, had it been forwarded.
    for (const delivery of deliveries) {
      expect(delivery).toMatchObject({ method: 'POST', url: '/hook' });
      expect(delivery.headers['x-token']).toBe('abc');
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(JSON.parse(delivery.body)).toEqual({ text: 'Disk "full": line 1\nline 2', p: 5, by: 'admin' });
    }
    await waitFor(async () => (await display()).includes('Delivered: **1**, failed: **0**'), 'the delivery on the plugin page');
    const page = await display();
    expect(page).toContain(`Forwarding your new messages with priority 3 or more to ${receiverUrl.replace(/([\\`*_{}[\]()#+!|<>])/g, '\\$1')}`);
    expect(page).toMatch(/\| Disk "full" \| delivered \| 2 \| HTTP 200 \|/);
    expect(page).not.toContain('abc');
  });

  it('gives up on a 400 at once, tells the user, and serves its status as JSON', async () => {
    const before = deliveries.length;
    statuses.push(400);
    const app = await s.createApp({ name: 'cron' });
    expect((await s.api('POST', '/message', { token: app.token, json: { title: 'nightly', message: 'done', priority: 8 } })).status).toBe(200);
    const notice = await waitFor(async () => {
      const messages = (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages as any[];
      return messages.find((m) => m.title === 'webhook-forward: delivery failed');
    }, 'the failure notice');
    expect(notice.message).toBe(`"nightly" could not be forwarded to ${receiverUrl} after 1 attempt: HTTP 400 Bad Request`);
    expect(deliveries.length).toBe(before + 1);
    // The notice is the plugin's own message: it is not forwarded back to the receiver.
    const status = await fetch(hookUrl(s, wf, 'status'));
    expect(status.status).toBe(200);
    const body = (await status.json()) as { delivered: number; failed: number; recent: { title: string; outcome: string }[] };
    expect(body).toMatchObject({ delivered: 1, failed: 1 });
    expect(body.recent.map((entry) => [entry.title, entry.outcome])).toEqual([['nightly', 'failed'], ['Disk "full"', 'delivered']]);
    expect(deliveries.length).toBe(before + 1);
  });

  it('keeps its delivery log across a server restart', async () => {
    await s.restart();
    wf = (await s.plugins()).find((p) => p.modulePath === MODULE);
    expect(wf.enabled).toBe(true);
    expect(await display()).toContain('Delivered: **1**, failed: **1**');
  });
});
