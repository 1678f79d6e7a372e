import { readFileSync } from 'node:fs';
import { createTestHost, type TestHost, type TestInstance } from '@flow/plugin-kit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { plugin } from './plugin.js';
import { sign } from './signature.js';

const SECRET = 'a-very-secret-webhook-secret';
const fixture = (name: string): Buffer => readFileSync(new URL(`../test/fixtures/${name}.json`, import.meta.url));

/** A delivery as GitHub sends it; `signature: null` leaves the header out. */
function delivery(event: string, body: Buffer | string, signature: string | null = sign(SECRET, body)) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' };
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  return { method: 'POST', path: '/webhook', headers, body: Buffer.from(body) };
}

describe('github plugin', () => {
  let host: TestHost;
  let inst: TestInstance;
  beforeEach(async () => {
    host = await createTestHost(plugin);
    inst = await host.createInstance({ webhookBasePath: '/plugin/4/custom/Pgh/' });
    await inst.setConfig(`secret: ${SECRET}\npriorities:\n  push: 2\n`);
    await inst.enable();
  });
  afterEach(async () => {
    expect(host.violations).toEqual([]);
    await host.close();
  });

  it('declares the secret key', async () => {
    expect(host.initializeResult?.info.modulePath).toBe('github.com/flow/plugins/github');
    expect(host.initializeResult?.capabilities).toEqual(['configurer', 'displayer', 'messenger', 'webhooker']);
    await inst.defaultConfig();
    const answer = host.traffic.map((t) => (t.message as { result?: { secretKeys?: string[] } }).result).find((r) => r?.secretKeys !== undefined);
    expect(answer?.secretKeys).toEqual(['secret']);
  });

  it('a signed push becomes a markdown message with a click URL and the configured priority', async () => {
    const res = await inst.webhook(delivery('push', fixture('push')));
    expect(res.status).toBe(200);
    expect(inst.messages).toHaveLength(1);
    expect(inst.messages[0]).toMatchObject({
      title: 'octo-org/flow: 2 new commits to main',
      priority: 2,
      extras: {
        'client::display': { contentType: 'text/markdown' },
        'client::notification': { click: { url: 'https://github.com/octo-org/flow/compare/6113728f27ae...0d1a26e67d8f' } },
      },
    });
  });

  it.each([
    ['ping', 'ping', 1, 'https://github.com/octo-org/flow'],
    ['pull_request', 'pull_request.opened', 5, 'https://github.com/octo-org/flow/pull/42'],
    ['issues', 'issues.opened', 5, 'https://github.com/octo-org/flow/issues/7'],
    ['issue_comment', 'issue_comment.created', 4, 'https://github.com/octo-org/flow/pull/42#issuecomment-2030400500'],
    ['release', 'release.published', 6, 'https://github.com/octo-org/flow/releases/tag/v1.2.0'],
    ['workflow_run', 'workflow_run.failure', 8, 'https://github.com/octo-org/flow/actions/runs/8512345678'],
    ['workflow_run', 'workflow_run.success', 3, 'https://github.com/octo-org/flow/actions/runs/8512349999'],
  ])('%s (%s): priority %i, click URL', async (event, name, priority, url) => {
    expect((await inst.webhook(delivery(event, fixture(name)))).status).toBe(200);
    expect(inst.messages).toHaveLength(1);
    expect(inst.messages[0]?.priority).toBe(priority);
    expect(inst.messages[0]?.extras?.['client::notification']).toEqual({ click: { url } });
  });

  it('accepts the form-encoded content type too', async () => {
    const body = `payload=${encodeURIComponent(fixture('ping').toString('utf8'))}`;
    const call = delivery('ping', body);
    call.headers['content-type'] = 'application/x-www-form-urlencoded';
    expect((await inst.webhook(call)).status).toBe(200);
    expect(inst.messages).toHaveLength(1);
  });

  it('missing, wrong or other-secret signatures: 401, no message', async () => {
    const body = fixture('push');
    expect((await inst.webhook(delivery('push', body, null))).status).toBe(401);
    expect((await inst.webhook(delivery('push', body, 'sha256=' + '0'.repeat(64)))).status).toBe(401);
    expect((await inst.webhook(delivery('push', body, sign('another-secret-entirely', body)))).status).toBe(401);
    expect((await inst.webhook(delivery('push', body, sign(SECRET, 'other body')))).status).toBe(401);
    expect(inst.messages).toEqual([]);
    expect(JSON.stringify(host.logs)).not.toContain(SECRET);
  });

  it('refuses everything while no secret is configured', async () => {
    const fresh = await host.createInstance();
    await fresh.enable();
    const body = fixture('ping');
    expect((await fresh.webhook({ ...delivery('ping', body, sign('', body)) })).status).toBe(401);
    expect(fresh.messages).toEqual([]);
    expect(await fresh.display()).toContain('No secret is configured yet');
  });

  it('unknown events: 204, no message', async () => {
    const body = JSON.stringify({ action: 'created', starred_at: '2026-04-02T10:00:00Z' });
    const res = await inst.webhook(delivery('star', body));
    expect(res.status).toBe(204);
    expect(inst.messages).toEqual([]);
  });

  it('malformed JSON or a payload missing fields: 400, no message', async () => {
    expect((await inst.webhook(delivery('push', '{"ref": "refs/heads/main",'))).status).toBe(400);
    expect((await inst.webhook(delivery('push', '[]'))).status).toBe(400);
    expect((await inst.webhook(delivery('issues', '{"action":"opened"}'))).status).toBe(400);
    expect(inst.messages).toEqual([]);
  });

  it('actions that are not notified: 200 with the reason, no message', async () => {
    const res = await inst.webhook(delivery('pull_request', fixture('pull_request.labeled')));
    expect(res.status).toBe(200);
    expect(res.text()).toContain('labeled');
    expect(inst.messages).toEqual([]);
  });

  it('only POST /webhook', async () => {
    expect((await inst.webhook({ method: 'GET', path: '/webhook' })).status).toBe(405);
    expect((await inst.webhook({ ...delivery('ping', fixture('ping')), path: '/other' })).status).toBe(404);
  });

  it('config: rejects bad values with a short reason and keeps the old config', async () => {
    expect(parse(await inst.defaultConfig())).toMatchObject({ secret: '', priorities: { workflow_run_failure: 8 } });
    await expect(inst.setConfig('secret: short')).rejects.toThrow('secret must be at least 16 characters');
    await expect(inst.setConfig(`secret: ${SECRET}\npriorities:\n  push: 11`)).rejects.toThrow('priorities.push must be a whole number from 0 to 10');
    await expect(inst.setConfig(`secret: ${SECRET}\npriorities:\n  star: 1`)).rejects.toThrow('priorities.star: unknown event');
    expect((await inst.webhook(delivery('push', fixture('push')))).status).toBe(200);
    expect(inst.messages[0]?.priority).toBe(2);
  });

  it('display: payload URL from the location and the setup steps', async () => {
    await inst.webhook(delivery('ping', fixture('ping')));
    const display = await inst.display({ scheme: 'https', host: 'flow.example.com', webhookBasePath: '/flow/plugin/4/custom/Pgh/' });
    expect(display).toContain('`https://flow.example.com/flow/plugin/4/custom/Pgh/webhook`');
    expect(display).toContain('`application/json`');
    expect(display).toContain('Pushes, Pull requests, Issues, Issue comments, Releases, Workflow runs');
    expect(display).toContain('A secret is configured');
    expect(display).not.toContain(SECRET);
    expect(display).toMatch(/Last delivery: `ping` at .*: sent message \d+/);
  });
});
