import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, startFlow, type FlowHandle } from '@flow/server';

let out = '';
let flow: FlowHandle;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flow-logsecret-'));
  const sink = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  });
  flow = await startFlow({
    config: { datadir: dir, 'server.port': 0, 'server.listenaddr': '127.0.0.1', passstrength: 4, 'log.level': 'debug' },
    logger: createLogger({ level: 'debug', destination: sink }),
  });
});
afterAll(async () => {
  await flow?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Writes raw bytes and resolves with the response once the server closes or answers. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const c = net.connect(flow.port, '127.0.0.1', () => c.write(bytes));
    c.on('data', (d) => {
      got += String(d);
      if (/\r\n\r\n[\s\S]*\}$/.test(got) || got.includes('Connection: close')) c.end();
    });
    c.on('close', () => resolve(got));
    c.on('error', () => resolve(got));
  });
}

describe('secrets never reach a log line', () => {
  it('masks malformed chunked bodies, percent-encoded token names and absolute-form request lines', async () => {
    const app = await (
      await fetch(flow.url + '/application', {
        method: 'POST',
        headers: { Authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64'), 'Content-Type': 'application/json' },
        body: '{"name":"a"}',
      })
    ).json();
    const basic = Buffer.from('admin:S3cretPassw0rd').toString('base64');
    const r1 = await raw(
      `POST /message?token=${app.token} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${basic}\r\nX-Gotify-Key: ${app.token}\r\n` +
        'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n',
    );
    expect(r1).toMatch(/^HTTP\/1\.1 [45]\d\d/);
    const r2 = await raw(`GET /message?%74oken=${app.token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(r2).toMatch(/^HTTP\/1\.1 \d{3}/);
    const r3 = await raw(`GET http://host/plugin/2/custom/PwebhookSecret0/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(r3).toMatch(/^HTTP\/1\.1 404/);
    const r4 = await raw(`GET http://user:UrlPassw0rd@host/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(r4).toMatch(/^HTTP\/1\.1 200/);
    // Every request produced its line (or error) before this point: the server answered each.
    await new Promise((r) => setImmediate(r));
    expect(out).toContain('[masked]');
    for (const secret of [app.token, basic, 'S3cretPassw0rd', 'PwebhookSecret0', 'UrlPassw0rd']) expect(out).not.toContain(secret);
    // The raw packet's bytes are not there in any shape.
    expect(out).not.toContain('rawPacket');
  });
});
