import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/plugins.js';
import { storedMessageIds, storedPurgeMarks } from '../helpers/stored.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const ids = (r: { body: { messages: { id: number }[] } }) => r.body.messages.map((m) => m.id);

async function post(t: TestServer, token: string, n: number, prefix = 'm'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await t.api('POST', '/message', { token, json: { message: `${prefix}${i}` } });
    expect(r.status).toBe(200);
    out.push(r.body.id);
  }
  return out;
}

describe('retention on PUT /application/:id', () => {
  it('rejects bad values with a 400 naming the field and changes nothing', async () => {
    s = await startTestServer();
    const app = await s.createApp({ name: 'r', description: 'keep me', defaultPriority: 3 });
    const put = (retention: unknown) =>
      s!.api('PUT', `/application/${app.id}`, { auth: s!.adminAuth, json: { name: 'renamed', description: 'x', retention } });
    const cases: [unknown, string][] = [
      [{ maxCount: -1 }, "Field 'retention.maxCount' must be at least 1"],
      [{ maxCount: 0 }, "Field 'retention.maxCount' must be at least 1"],
      [{ maxCount: 1e12 }, "Field 'retention.maxCount' must be at most"],
      [{ maxCount: 2.5 }, "Field 'retention.maxCount' must be a whole number"],
      [{ maxCount: '10' }, "Field 'retention.maxCount' must be a number or null"],
      [{ maxAgeSeconds: -5 }, "Field 'retention.maxAgeSeconds' must be at least 1"],
      [{ maxAgeSeconds: 0 }, "Field 'retention.maxAgeSeconds' must be at least 1"],
      [{ maxAgeSeconds: 1e15 }, "Field 'retention.maxAgeSeconds' must be at most"],
      [{ maxAgeSeconds: '3y' }, "Field 'retention.maxAgeSeconds' has an unknown unit \"y\""],
      [{ maxAgeSeconds: 'soon' }, "Field 'retention.maxAgeSeconds' must be a number of seconds"],
      [{ maxAgeSeconds: true }, "Field 'retention.maxAgeSeconds' must be a number of seconds"],
      [{ maxAge: 10 }, "Field 'retention.maxAge' is unknown"],
      [[1, 2], "Field 'retention' must be an object"],
      ['7d', "Field 'retention' must be an object"],
    ];
    for (const [retention, text] of cases) {
      const r = await put(retention);
      expect(r.status, JSON.stringify(retention)).toBe(400);
      expect(r.body.errorDescription).toContain(text);
    }
    const [after] = (await s.api('GET', '/application', { auth: s.adminAuth })).body;
    expect(after).toMatchObject({ name: 'r', description: 'keep me', defaultPriority: 3, retention: { maxCount: null, maxAgeSeconds: null } });
  });

  it('accepts partial updates, durations with units and null, and keeps them across a restart', async () => {
    s = await startTestServer();
    const app = await s.createApp({ name: 'r' });
    const put = (retention: unknown) => s!.api('PUT', `/application/${app.id}`, { auth: s!.adminAuth, json: { name: 'r', retention } });
    expect((await put({ maxCount: 100 })).body.retention).toEqual({ maxCount: 100, maxAgeSeconds: null });
    expect((await put({ maxAgeSeconds: '7d' })).body.retention).toEqual({ maxCount: 100, maxAgeSeconds: 7 * 86_400 });
    expect((await put({ MaxCount: null })).body.retention).toEqual({ maxCount: null, maxAgeSeconds: 7 * 86_400 });
    // A PUT without retention (every Gotify client) leaves it alone.
    expect((await s.api('PUT', `/application/${app.id}`, { auth: s.adminAuth, json: { name: 'r2' } })).body.retention).toEqual({ maxCount: null, maxAgeSeconds: 604_800 });
    await s.restart();
    const [after] = (await s.api('GET', '/application', { auth: s.adminAuth })).body;
    expect(after.retention).toEqual({ maxCount: null, maxAgeSeconds: 604_800 });
  });
});

describe('retention enforcement', () => {
  it('keeps the newest maxCount messages: at once when set, then continuously as messages arrive', async () => {
    s = await startTestServer();
    const app = await s.createApp({ name: 'busy' });
    const other = await s.createApp({ name: 'quiet' });
    const posted = await post(s, app.token, 6);
    const kept = await post(s, other.token, 2, 'o');
    const r = await s.api('PUT', `/application/${app.id}`, { auth: s.adminAuth, json: { name: 'busy', retention: { maxCount: 3 } } });
    expect(r.status).toBe(200);
    await s.flow.app.services.retention.sweep();
    expect(ids(await s.api('GET', `/application/${app.id}/message`, { auth: s.adminAuth }))).toEqual(posted.slice(-3).reverse());
    expect(ids(await s.api('GET', `/application/${other.id}/message`, { auth: s.adminAuth }))).toEqual(kept.reverse());

    // New messages are trimmed without anyone asking (about a second after they arrive).
    const more = await post(s, app.token, 4, 'n');
    await waitFor(async () => {
      const list = ids(await s!.api('GET', `/application/${app.id}/message`, { auth: s!.adminAuth }));
      return list.length === 3 && list;
    }, 'the count limit to be applied');
    expect(ids(await s.api('GET', `/application/${app.id}/message`, { auth: s.adminAuth }))).toEqual(more.slice(-3).reverse());
    // The keys are gone too once the purge ran.
    await s.flow.app.store.messages.purger.idle();
    expect(await storedMessageIds(s.flow.app.store, app.id)).toEqual(more.slice(-3));
  });

  it('drops messages older than maxAgeSeconds, by the injected clock', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    s = await startTestServer({ clock: () => now });
    const app = await s.createApp({ name: 'aging' });
    const old = await post(s, app.token, 3, 'old');
    now += 2 * 3_600_000;
    const young = await post(s, app.token, 2, 'young');
    const put = await s.api('PUT', `/application/${app.id}`, { auth: s.adminAuth, json: { name: 'aging', retention: { maxAgeSeconds: '1h' } } });
    expect(put.status).toBe(200);
    await s.flow.app.services.retention.sweep();
    const left = await s.api('GET', '/message', { auth: s.adminAuth });
    expect(ids(left)).toEqual([...young].reverse());
    expect(left.body.messages.every((m: { date: string }) => m.date === new Date(now).toISOString())).toBe(true);
    for (const id of old) expect((await s.api('DELETE', `/message/${id}`, { auth: s.adminAuth })).status).toBe(404);

    // An hour and a second later the young ones are old too.
    now += 3_601_000;
    await s.flow.app.services.retention.sweep();
    expect(ids(await s.api('GET', '/message', { auth: s.adminAuth }))).toEqual([]);
  });

  it('applies the server default (config retention.*) to applications without their own, which may opt out', async () => {
    s = await startTestServer({ config: { 'retention.maxcount': 2 } });
    const dflt = await s.createApp({ name: 'default' });
    const own = await s.createApp({ name: 'own' });
    expect(dflt.retention).toEqual({ maxCount: 2, maxAgeSeconds: null });
    const optOut = await s.api('PUT', `/application/${own.id}`, { auth: s.adminAuth, json: { name: 'own', retention: { maxCount: null } } });
    expect(optOut.body.retention).toEqual({ maxCount: null, maxAgeSeconds: null });
    const a = await post(s, dflt.token, 4);
    const b = await post(s, own.token, 4);
    await s.flow.app.services.retention.sweep();
    expect(ids(await s.api('GET', `/application/${dflt.id}/message`, { auth: s.adminAuth }))).toEqual(a.slice(-2).reverse());
    expect(ids(await s.api('GET', `/application/${own.id}/message`, { auth: s.adminAuth }))).toEqual([...b].reverse());
  });
});

describe('bulk deletes over HTTP', () => {
  it('are visible at once, give Gotify answers when repeated, and leave no key once purged', async () => {
    s = await startTestServer();
    const bob = await s.createUser('bob');
    const app = await s.createApp({ name: 'a' });
    const app2 = await s.createApp({ name: 'b' });
    const bobApp = await s.createApp({ name: 'bob' }, bob.auth);
    await post(s, app.token, 5);
    const keep2 = await post(s, app2.token, 3);
    const bobs = await post(s, bobApp.token, 2);

    expect((await s.api('DELETE', `/application/${app.id}/message`, { auth: s.adminAuth })).status).toBe(200);
    expect((await s.api('DELETE', `/application/${app.id}/message`, { auth: s.adminAuth })).status).toBe(200);
    expect(ids(await s.api('GET', '/message', { auth: s.adminAuth }))).toEqual([...keep2].reverse());

    expect((await s.api('DELETE', '/message', { auth: s.adminAuth })).status).toBe(200);
    expect((await s.api('DELETE', '/message', { auth: s.adminAuth })).status).toBe(200);
    expect(ids(await s.api('GET', '/message', { auth: s.adminAuth }))).toEqual([]);
    expect(ids(await s.api('GET', '/message', { auth: bob.auth }))).toEqual([...bobs].reverse());

    // Deleting an application twice: the second finds nothing, as in Gotify.
    expect((await s.api('DELETE', `/application/${app2.id}`, { auth: s.adminAuth })).status).toBe(200);
    const again = await s.api('DELETE', `/application/${app2.id}`, { auth: s.adminAuth });
    expect(again.status).toBe(404);
    expect(again.body.errorDescription).toBe(`app with id ${app2.id} doesn't exists`);

    // A message posted after DELETE /message is not swallowed by it.
    const late = await post(s, app.token, 1, 'late');
    expect(ids(await s.api('GET', '/message', { auth: s.adminAuth }))).toEqual(late);

    expect((await s.api('DELETE', `/user/${bob.id}`, { auth: s.adminAuth })).status).toBe(200);
    await s.flow.app.store.messages.purger.idle();
    expect(await storedMessageIds(s.flow.app.store)).toEqual(late);
    expect(await storedPurgeMarks(s.flow.app.store)).toBe(0);
  });
});

describe('fan-out after the early reply', () => {
  it('resolves the insert before subscribers see the message, then delivers it', async () => {
    s = await startTestServer();
    const app = await s.createApp({ name: 'early' });
    const seen: number[] = [];
    const off = s.flow.app.bus.on('messageCreated', ({ message }) => void seen.push(message.id));
    const m = await s.flow.app.services.messages.createForApplication(app.id, { message: 'x' });
    expect(seen).toEqual([]);
    await waitFor(() => seen.length === 1, 'the fan-out');
    expect(seen).toEqual([m.id]);
    off();
  });

  it('keeps id order on every stream with many concurrent posts, and loses none', async () => {
    s = await startTestServer();
    const bob = await s.createUser('bob');
    const apps = [await s.createApp({ name: 'p1' }), await s.createApp({ name: 'p2' })];
    const bobApp = await s.createApp({ name: 'b' }, bob.auth);
    const client = await s.createClient('c');
    const bobClient = await s.createClient('bc', bob.auth);
    const streams = [await s.openStream(client.token), await s.openStream(client.token)];
    const bobStream = await s.openStream(bobClient.token);
    const N = 120;
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        s!.api('POST', '/message', { token: i % 5 === 0 ? bobApp.token : apps[i % 2]!.token, json: { message: 'c' + i } }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const adminIds = results.filter((_, i) => i % 5 !== 0).map((r) => r.body.id as number).sort((a, b) => a - b);
    const bobIds = results.filter((_, i) => i % 5 === 0).map((r) => r.body.id as number).sort((a, b) => a - b);
    for (const st of streams) {
      const got: number[] = [];
      for (let i = 0; i < adminIds.length; i++) got.push((await st.next()).id);
      expect(got).toEqual(adminIds);
    }
    const gotBob: number[] = [];
    for (let i = 0; i < bobIds.length; i++) gotBob.push((await bobStream.next()).id);
    expect(gotBob).toEqual(bobIds);
  });
});
