import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, startFlow, type FlowHandle } from '@flow/server';

const lines: any[] = [];
let flow: FlowHandle;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flow-log-'));
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  flow = await startFlow({
    config: { datadir: dir, 'server.port': 0, 'server.listenaddr': '127.0.0.1', passstrength: 4, 'plugins.bundled': false },
    logger: createLogger({ level: 'info', destination: sink }),
  });
});
afterAll(async () => {
  await flow?.close();
  await rm(dir, { recursive: true, force: true });
});

const admin = 'Basic ' + Buffer.from('admin:admin').toString('base64');

describe('access log', () => {
  it('writes one line per request and never a token or password', async () => {
    const app = await (
      await fetch(flow.url + '/application', { method: 'POST', headers: { Authorization: admin, 'Content-Type': 'application/json' }, body: '{"name":"a"}' })
    ).json();
    await fetch(flow.url + '/user', {
      method: 'POST',
      headers: { Authorization: admin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'u', pass: 'Sup3rSecretPass' }),
    });
    await fetch(`${flow.url}/message?token=${app.token}&message=hi`, { method: 'POST' });
    await fetch(`${flow.url}/message`, { method: 'POST', headers: { 'X-Gotify-Key': app.token, 'Content-Type': 'application/json' }, body: '{"message":"x"}' });
    await fetch(`${flow.url}/plugin/3/custom/PwebhookSecretToken123456/echo?x=1`);
    // Repeated slashes are routed like single ones (cleanPath), so they are masked too.
    await fetch(`${flow.url}//plugin/3/custom/PdoubleSlashSecret1234567/echo`);
    await fetch(`${flow.url}/current/user`, { headers: { Authorization: 'Bearer ' + app.token } });

    const access = lines.filter((l) => l.msg === 'request');
    expect(access.map((l) => [l.method, l.path, l.status])).toEqual([
      ['POST', '/application', 200],
      ['POST', '/user', 200],
      ['POST', '/message?token=[masked]&message=hi', 200],
      ['POST', '/message', 200],
      ['GET', '/plugin/3/custom/[masked]/echo?x=1', 404],
      ['GET', '//plugin/3/custom/[masked]/echo', 404],
      ['GET', '/current/user', 401],
    ]);
    for (const l of access) {
      expect(typeof l.ms).toBe('number');
      expect(typeof l.reqId).toBe('string');
    }
    const all = JSON.stringify(lines);
    for (const secret of [app.token, 'Sup3rSecretPass', 'PwebhookSecretToken123456', 'PdoubleSlashSecret1234567', 'YWRtaW46YWRtaW4=', 'admin:admin']) {
      expect(all).not.toContain(secret);
    }
  });
});
