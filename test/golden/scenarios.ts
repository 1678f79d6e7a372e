/**
 * The sessions the golden transcripts are recorded from: one scenario per plugin in plugins/,
 * driven through the kit's test host with the plugin running behind `flow-plugin record`
 * (the same recorder code the server uses). Each scenario sticks to behaviour that is the
 * plugin's own and deterministic: no wall-clock output, no network, no random values, and no
 * two operations of one instance in flight at once (their interleaving is not fixed, and
 * replay keeps per-instance order).
 *
 * Re-record after an intended protocol change: `npm run golden:record` (or name plugins:
 * `npm run golden:record -- echo github`), review the diff of test/golden/*.jsonl, commit.
 */
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestHost } from '@flow/plugin-kit/testing';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const GOLDEN_DIR = fileURLToPath(new URL('./', import.meta.url));
export const FLOW_PLUGIN_CLI = path.join(ROOT, 'plugin-kit/dist/cli/main.js');

export interface GoldenScenario {
  /** The plugin's command line, from the repository root. */
  command: string[];
  description: string;
  run(host: TestHost): Promise<void>;
}

const node = (name: string): string[] => [process.execPath, path.join(ROOT, `plugins/${name}/dist/flow-${name}.mjs`)];
/** A Go plugin's executable, built by `npm run build` (flow-plugin build-go). */
const goExecutable = (name: string): string[] => [path.join(ROOT, `plugins/${name}/dist/flow-${name}`)];
const alice = { id: 1, name: 'alice', admin: true };
const bob = { id: 2, name: 'bob', admin: false };

/** Rejections are part of the recording; the scenario only needs them to happen. */
const rejected = (promise: Promise<unknown>): Promise<void> => promise.then(
  () => {
    throw new Error('expected the plugin to refuse');
  },
  () => undefined,
);

export const SCENARIOS: Record<string, GoldenScenario> = {
  minimal: {
    command: node('minimal'),
    description: 'two users; enable both, disable and destroy one; ping and plugin/info',
    async run(host) {
      const a = await host.createInstance({ user: alice });
      const b = await host.createInstance({ user: bob });
      await a.enable();
      await b.enable();
      await b.disable();
      await b.destroy();
      await host.request('ping', {});
      await host.request('plugin/info', {});
    },
  },
  echo: {
    command: node('echo'),
    description: 'default/valid/invalid config, enable, display, webhooks (hit twice, 405, 404), a subscribed message',
    async run(host) {
      const a = await host.createInstance({ user: alice });
      const b = await host.createInstance({ user: bob });
      await a.defaultConfig();
      await a.setConfig('magic_string: golden');
      await rejected(a.setConfig('magic_string: ""'));
      await b.setConfig(await b.defaultConfig());
      await a.enable();
      await a.webhook({ method: 'GET', path: '/echo' });
      await a.webhook({ method: 'GET', path: '/echo', query: { n: '2' } });
      await a.webhook({ method: 'POST', path: '/echo', body: 'x' });
      await a.webhook({ method: 'GET', path: '/nope' });
      await a.display({ scheme: 'https', host: 'flow.example' });
      a.sendMessageToSubscriber({ id: 7, appid: 3, message: 'from elsewhere', title: 'other app', date: '2026-01-01T00:00:00Z' });
      // Each step waits for the plugin's last word on the previous one: calls of one instance
      // that overlap (a notification still being handled during the disable) have no fixed order.
      await host.waitFor(() => a.logs.some((line) => line.message === 'message seen'));
      await a.disable();
    },
  },
  github: {
    command: node('github'),
    description: 'secret config (redacted and re-signed), display, a signed ping delivery, a forged one',
    async run(host) {
      const a = await host.createInstance({ user: alice });
      await a.defaultConfig();
      await rejected(a.setConfig('secret: short'));
      const secret = 'golden-secret-0123456789';
      await a.setConfig(`secret: ${secret}`);
      await a.enable();
      // Before any delivery: the page shows the last delivery's wall-clock time.
      await a.display({ scheme: 'https', host: 'flow.example' });
      const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1, repository: { full_name: 'flow/golden', html_url: 'https://github.com/flow/golden' } });
      const sign = (key: string) => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
      const headers = { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'golden-1' };
      await a.webhook({ method: 'POST', path: '/webhook', headers: { ...headers, 'x-hub-signature-256': sign(secret) }, body });
      await a.webhook({ method: 'POST', path: '/webhook', headers: { ...headers, 'x-hub-signature-256': sign('wrong-secret-0123456789') }, body });
    },
  },
  rss: {
    command: node('rss'),
    description: 'default/invalid config and the display of a disabled instance (no polling: no network in golden runs)',
    async run(host) {
      const a = await host.createInstance({ user: alice });
      await a.setConfig(await a.defaultConfig());
      await rejected(a.setConfig('feeds: 12'));
      await a.display({ scheme: 'https', host: 'flow.example' });
    },
  },
  clock: {
    command: node('clock'),
    description: 'default/valid/invalid config, enable and disable (no display: it shows wall-clock times)',
    async run(host) {
      const a = await host.createInstance({ user: alice });
      await a.setConfig(await a.defaultConfig());
      await rejected(a.setConfig('schedules: [{cron: "not a cron"}]'));
      await a.enable();
      await a.disable();
    },
  },
  notes: {
    command: node('notes'),
    description: 'default/valid/invalid config, enable, display, webhooks that need no page token (404, 405)',
    async run(host) {
      const a = await host.createInstance({ user: alice });
      await a.setConfig(await a.defaultConfig());
      await a.setConfig('title: Golden\npriority: 7');
      await rejected(a.setConfig('priority: 11'));
      await a.enable();
      await a.display({ scheme: 'https', host: 'flow.example' });
      await a.webhook({ method: 'GET', path: '/nope' });
      await a.webhook({ method: 'GET', path: '/notes' });
    },
  },
  alarm: {
    command: ['python3', path.join(ROOT, 'plugins/alarm/alarm.py')],
    description: 'the Python plugin: default/invalid config, display, enable and disable with no checks',
    async run(host) {
      const a = await host.createInstance({ user: alice });
      await a.setConfig(await a.defaultConfig());
      await rejected(a.setConfig('interval: 1ms'));
      await a.display({ scheme: 'https', host: 'flow.example' });
      await a.enable();
      await a.disable();
    },
  },
  'webhook-forward': {
    command: ['python3', path.join(ROOT, 'plugins/webhook-forward/dist/flow-webhook-forward.pyz')],
    description: 'the Python kit plugin: default/invalid/valid config, enable refused without a url, enable, display, status and unknown webhooks, disable (no delivery: no network)',
    async run(host) {
      const a = await host.createInstance({ user: alice });
      const b = await host.createInstance({ user: bob });
      await a.setConfig(await a.defaultConfig());
      await rejected(a.setConfig("url: http://127.0.0.1:9/hook\ntemplate: '{\"t\": \"{{nope}}\"}'\n"));
      await rejected(b.enable());
      await a.setConfig('url: http://127.0.0.1:9/hook\nmin_priority: 4\nheaders: {X-Token: s3cr3t-token}\n');
      await a.enable();
      await a.display({ scheme: 'https', host: 'flow.example' });
      await a.webhook({ method: 'GET', path: '/status' });
      await a.webhook({ method: 'GET', path: '/nope' });
      await a.disable();
    },
  },
  'minimal-go': {
    command: goExecutable('minimal-go'),
    description: 'the seed\'s Go example built with build-go: two users; enable both, disable and destroy one; ping and plugin/info',
    async run(host) {
      const a = await host.createInstance({ user: alice });
      const b = await host.createInstance({ user: bob });
      await a.enable();
      await b.enable();
      await b.disable();
      await b.destroy();
      await host.request('ping', {});
      await host.request('plugin/info', {});
    },
  },
  'echo-go': {
    command: goExecutable('echo-go'),
    description: 'Gotify-style Go echo: default/valid/invalid/undecodable config, enable, gin webhooks (echo twice, JSON in/out, bad JSON, binary, 404), display',
    async run(host) {
      const a = await host.createInstance({ user: alice });
      const b = await host.createInstance({ user: bob });
      await a.defaultConfig();
      await a.setConfig('magic_string: golden');
      await rejected(a.setConfig('magic_string: ""'));
      await rejected(a.setConfig('magic_string: [1, 2]'));
      await b.setConfig(await b.defaultConfig());
      await a.enable();
      await a.webhook({ method: 'GET', path: '/echo' });
      await a.webhook({ method: 'GET', path: '/echo', query: { n: '2' } });
      await a.webhook({ method: 'POST', path: '/message', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'from JSON', title: 'json', priority: 4 }) });
      await a.webhook({ method: 'POST', path: '/message', headers: { 'content-type': 'application/json' }, body: '{"title": "no message"}' });
      await a.webhook({ method: 'POST', path: '/raw', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 2, 254, 255]) });
      await a.webhook({ method: 'GET', path: '/nope' });
      await a.display({ scheme: 'https', host: 'flow.example' });
      await a.disable();
    },
  },
};
