import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestUser } from '../helpers/server.js';

let s: TestServer;
let bob: TestUser;
let app: any;
beforeAll(async () => {
  s = await startTestServer({ config: { 'limits.bodybytes': 4096 } });
  bob = await s.createUser('bob');
  app = await s.createApp({ name: 'bob app', defaultPriority: 4 }, bob.auth);
});
afterAll(() => s?.close());

const post = (o: Parameters<TestServer['api']>[2], p = '/message') => s.api('POST', p, { token: app.token, ...o });

describe('POST /message', () => {
  it('stores a JSON message with Gotify shape, defaults from the app', async () => {
    const before = Date.now();
    const r = await post({ json: { message: 'hello' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(r.headers.get('content-length'))).toBe(Buffer.byteLength(JSON.stringify(r.body)));
    expect(Object.keys(r.body)).toEqual(['id', 'appid', 'message', 'title', 'priority', 'date']);
    expect(r.body).toMatchObject({ appid: app.id, message: 'hello', title: 'bob app', priority: 4 });
    expect(Date.parse(r.body.date)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('keeps title, priority 0 and extras when given', async () => {
    const extras = { 'client::display': { contentType: 'text/markdown' }, n: [1, 2] };
    const r = await post({ json: { message: 'm', title: 'T', priority: 0, extras } });
    expect(Object.keys(r.body)).toEqual(['id', 'appid', 'message', 'title', 'priority', 'extras', 'date']);
    expect(r.body).toMatchObject({ title: 'T', priority: 0, extras });
    const blank = await post({ json: { message: 'm', title: '   ', extras: {} } });
    expect(blank.body.title).toBe('bob app');
    expect(blank.body.extras).toBeUndefined();
  });

  it('accepts form bodies with string priorities, multipart and query parameters', async () => {
    const form = await post({ form: { message: 'form', title: 'F', priority: '7' } });
    expect(form.status).toBe(200);
    expect(form.body).toMatchObject({ message: 'form', title: 'F', priority: 7 });
    const fd = new FormData();
    fd.append('message', 'multi');
    fd.append('priority', '2');
    const multi = await post({ body: fd });
    expect(multi.body).toMatchObject({ message: 'multi', priority: 2 });
    const q = await s.api('POST', `/message?token=${app.token}&message=${encodeURIComponent('from query')}&title=Q&priority=9`);
    expect(q.status).toBe(200);
    expect(q.body).toMatchObject({ message: 'from query', title: 'Q', priority: 9 });
  });

  it('updates the application lastUsed', async () => {
    const list = await s.api('GET', '/application', { auth: bob.auth });
    expect(Date.parse(list.body.find((a: any) => a.id === app.id).lastUsed)).not.toBeNaN();
  });

  it('rejects bad input with 400 and stores nothing', async () => {
    const before = (await s.api('GET', '/message?limit=200', { auth: bob.auth })).body.messages.length;
    const cases: [Parameters<TestServer['api']>[2], string | RegExp][] = [
      [{ json: { title: 'x' } }, "Field 'message' is required"],
      [{ json: { message: '' } }, "Field 'message' is required"],
      [{ form: { title: 'x' } }, "Field 'message' is required"],
      [{ json: { message: 'x', priority: 'high' } }, "Field 'priority' must be an integer"],
      [{ json: { message: 'x', priority: 1.5 } }, "Field 'priority' must be an integer"],
      [{ form: { message: 'x', priority: 'high' } }, "Field 'priority' must be an integer"],
      [{ json: { message: 5 } }, "Field 'message' must be a string"],
      [{ json: { message: 'x', extras: [1] } }, "Field 'extras' must be an object"],
      [{ body: '{"message":', headers: { 'Content-Type': 'application/json' } }, /^malformed JSON body/],
      [{ body: '"just a string"', headers: { 'Content-Type': 'application/json' } }, /^malformed JSON body/],
    ];
    for (const [o, text] of cases) {
      const r = await post(o);
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('Bad Request');
      expect(r.body.errorDescription).toMatch(text);
    }
    expect((await s.api('GET', '/message?limit=200', { auth: bob.auth })).body.messages.length).toBe(before);
  });

  it('answers oversized bodies with 413 and the error body', async () => {
    const r = await post({ json: { message: 'x'.repeat(5000) } });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ error: 'Payload Too Large', errorCode: 413 });
    expect(r.body.errorDescription).toContain('4096');
    // Chunked (no Content-Length) bodies are cut while reading.
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode('message=' + 'y'.repeat(1000)));
        c.close();
      },
    });
    const res = await fetch(`${s.url}/message?token=${app.token}`, {
      method: 'POST',
      body: stream,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).errorCode).toBe(413);
  });
});

/**
 * Writes `parts` to one keep-alive connection, each in its own segment after the previous one
 * was sent (as a body split by the network arrives), and resolves with the first `expected` responses, in order.
 */
function rawExchange(parts: string[], expected: number): Promise<{ status: number; body: any }[]> {
  return new Promise((resolve, reject) => {
    const c = net.connect(s.port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const parsed = (): { status: number; body: any }[] | undefined => {
      const out: { status: number; body: any }[] = [];
      let rest = got;
      while (out.length < expected) {
        const headEnd = rest.indexOf('\r\n\r\n');
        if (headEnd < 0) return undefined;
        const head = rest.subarray(0, headEnd).toString();
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (rest.length < headEnd + 4 + length) return undefined;
        const body = rest.subarray(headEnd + 4, headEnd + 4 + length).toString();
        out.push({ status: Number(head.split(' ')[1]), body: length > 0 ? JSON.parse(body) : '' });
        rest = rest.subarray(headEnd + 4 + length);
      }
      return out;
    };
    c.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const done = parsed();
      if (done) {
        c.destroy();
        resolve(done);
      }
    });
    c.on('error', reject);
    // Each part its own TCP segment (no Nagle coalescing), handed to the kernel before the next.
    c.setNoDelay(true);
    c.on('connect', async () => {
      for (const part of parts) await new Promise<void>((r) => c.write(part, () => setImmediate(r)));
    });
  });
}

const rawPost = (json: unknown) => {
  const body = JSON.stringify(json);
  return { head: `POST /message HTTP/1.1\r\nHost: x\r\nX-Gotify-Key: ${app.token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`, body };
};

describe('POST /message bodies as they arrive on the wire', () => {
  it('reads each of several requests pipelined in one packet with its own body', async () => {
    const reqs = ['one', 'twö', 'three'].map((m, i) => rawPost({ message: m, priority: i }));
    const answers = await rawExchange([reqs.map((r) => r.head + r.body).join('')], 3);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => [a.body.message, a.body.priority])).toEqual([['one', 0], ['twö', 1], ['three', 2]]);
    const stored = await s.api('GET', '/message?limit=3', { auth: bob.auth });
    expect(stored.body.messages.map((m: any) => m.message)).toEqual(['three', 'twö', 'one']);
  });

  it('reads a body that arrives after its headers, and one split in two', async () => {
    const a = rawPost({ message: 'late body' });
    const b = rawPost({ message: 'split body', title: 'halves' });
    const cut = 9;
    const answers = await rawExchange([a.head, a.body + b.head + b.body.slice(0, cut), b.body.slice(cut)], 2);
    expect(answers.map((x) => x.status)).toEqual([200, 200]);
    expect(answers[0]!.body.message).toBe('late body');
    expect(answers[1]!.body).toMatchObject({ message: 'split body', title: 'halves' });
  });

  it('answers 400 for a body that is not JSON, whole or split, and the connection goes on', async () => {
    const bad = `POST /message HTTP/1.1\r\nHost: x\r\nX-Gotify-Key: ${app.token}\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"me`;
    const good = rawPost({ message: 'after the bad one' });
    const answers = await rawExchange([bad, 's' + good.head + good.body], 2);
    expect(answers[0]).toMatchObject({ status: 400, body: { error: 'Bad Request', errorCode: 400 } });
    expect(answers[1]).toMatchObject({ status: 200, body: { message: 'after the bad one' } });
  });
});

describe('GET /message and /application/:id/message', () => {
  it('pages newest first with limit, since and an absolute next URL', async () => {
    const u = await s.createUser('pager');
    const a1 = await s.createApp({ name: 'a1' }, u.auth);
    const a2 = await s.createApp({ name: 'a2' }, u.auth);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = i % 2 === 0 ? a1 : a2;
      ids.push((await s.api('POST', '/message', { token: a.token, json: { message: 'm' + i } })).body.id);
    }
    const all = await s.api('GET', '/message', { auth: u.auth });
    expect(all.body.paging).toEqual({ size: 5, since: 0, limit: 100 });
    expect(all.body.messages.map((m: any) => m.id)).toEqual([...ids].reverse());

    const p1 = await s.api('GET', '/message?limit=2', { auth: u.auth });
    expect(p1.body.messages.map((m: any) => m.id)).toEqual([ids[4], ids[3]]);
    expect(p1.body.paging).toEqual({ next: `${s.url}/message?limit=2&since=${ids[3]}`, size: 2, since: ids[3], limit: 2 });
    const p2 = await s.api('GET', p1.body.paging.next.slice(s.url.length), { auth: u.auth });
    expect(p2.body.messages.map((m: any) => m.id)).toEqual([ids[2], ids[1]]);
    const p3 = await s.api('GET', p2.body.paging.next.slice(s.url.length), { auth: u.auth });
    expect(p3.body.messages.map((m: any) => m.id)).toEqual([ids[0]]);
    expect(p3.body.paging.next).toBeUndefined();

    const byApp = await s.api('GET', `/application/${a1.id}/message?limit=2`, { auth: u.auth });
    expect(byApp.body.messages.map((m: any) => m.id)).toEqual([ids[4], ids[2]]);
    expect(byApp.body.paging.next).toBe(`${s.url}/application/${a1.id}/message?limit=2&since=${ids[2]}`);
    // Another user sees none of these.
    expect((await s.api('GET', '/message', { auth: bob.auth })).body.messages.some((m: any) => ids.includes(m.id))).toBe(false);
  });

  it('validates limit and since', async () => {
    for (const q of ['limit=0', 'limit=201', 'limit=abc', 'since=-1', 'since=x']) {
      const r = await s.api('GET', '/message?' + q, { auth: bob.auth });
      expect(r.status).toBe(400);
    }
    expect((await s.api('GET', '/message?limit=201', { auth: bob.auth })).body.errorDescription).toBe(
      "Field 'limit' must be less or equal to 200",
    );
    expect((await s.api('GET', '/message?limit=200', { auth: bob.auth })).status).toBe(200);
  });
});

describe('DELETE /message, /message/:id, /application/:id/message', () => {
  it('deletes one message, only the caller’s', async () => {
    const m = await post({ json: { message: 'del me' } });
    const other = await s.createUser('eve');
    expect((await s.api('DELETE', `/message/${m.body.id}`, { auth: other.auth })).status).toBe(404);
    const r = await s.api('DELETE', `/message/${m.body.id}`, { auth: bob.auth });
    expect(r.status).toBe(200);
    const again = await s.api('DELETE', `/message/${m.body.id}`, { auth: bob.auth });
    expect(again.status).toBe(404);
    expect(again.body.errorDescription).toBe('message does not exist');
    expect((await s.api('DELETE', '/message/abc', { auth: bob.auth })).body.errorDescription).toBe('invalid id');
  });

  it('deletes all messages of one application', async () => {
    const u = await s.createUser('apps');
    const a1 = await s.createApp({ name: 'a1' }, u.auth);
    const a2 = await s.createApp({ name: 'a2' }, u.auth);
    await s.api('POST', '/message', { token: a1.token, json: { message: '1' } });
    const keep = await s.api('POST', '/message', { token: a2.token, json: { message: '2' } });
    expect((await s.api('DELETE', `/application/${a1.id}/message`, { auth: u.auth })).status).toBe(200);
    const left = await s.api('GET', '/message', { auth: u.auth });
    expect(left.body.messages.map((m: any) => m.id)).toEqual([keep.body.id]);
  });

  it('deletes all messages of the user and no one else’s', async () => {
    const u = await s.createUser('wipe');
    const a = await s.createApp({ name: 'a' }, u.auth);
    await s.api('POST', '/message', { token: a.token, json: { message: '1' } });
    const bobMsgs = (await s.api('GET', '/message', { auth: bob.auth })).body.messages.length;
    expect((await s.api('DELETE', '/message', { auth: u.auth })).status).toBe(200);
    expect((await s.api('GET', '/message', { auth: u.auth })).body.messages).toEqual([]);
    expect((await s.api('GET', '/message', { auth: bob.auth })).body.messages.length).toBe(bobMsgs);
  });
});
