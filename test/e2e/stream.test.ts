import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer, type TestUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let s: TestServer;
let bob: TestUser;

/** Opens a raw websocket and resolves with the upgrade outcome. */
function tryUpgrade(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(s.url.replace(/^http/, 'ws') + path, { headers });
    ws.once('open', () => resolve({ status: 101, body: undefined, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.once('error', reject);
  });
}

// Every case runs with the sockets in the stream process (the default) and in the server.
describe.each([true, false])('server.stream.writerprocess: %s', (writerProcess) => {
  beforeAll(async () => {
    s = await startTestServer({
      config: {
        'server.stream.pingperiodseconds': 1,
        'server.stream.allowedorigins': ['^allowed\\.example\\.com$'],
        'server.stream.writerprocess': writerProcess,
      },
    });
    bob = await s.createUser('bob');
  });
  afterAll(() => s?.close());

  describe('GET /stream', () => {
    it('delivers each new message of the user to all of the user’s streams, and no one else’s', async () => {
      const client = await s.createClient('phone', bob.auth);
      const client2 = await s.createClient('laptop', bob.auth);
      const adminClient = await s.createClient('admin');
      const app = await s.createApp({ name: 'bob app', defaultPriority: 3 }, bob.auth);
      const s1 = await s.openStream(client.token);
      const s2 = await s.openStream(client2.token);
      const other = await s.openStream(adminClient.token);

      const posted = await s.api('POST', '/message', { token: app.token, json: { message: 'live', extras: { k: 'v' } } });
      expect(await s1.next()).toEqual(posted.body);
      expect(await s2.next()).toEqual(posted.body);

      // Messages created inside the server (the plugin path) are streamed the same way.
      const internal = await s.flow.app.services.messages.createForApplication(app.id, { message: 'from inside' });
      const got = await s1.next();
      expect(got).toMatchObject({ id: internal.id, appid: app.id, message: 'from inside', title: 'bob app', priority: 3 });

      // The admin's stream received nothing: its next message is the admin's own.
      const adminApp = await s.createApp({ name: 'admin app' });
      const mine = await s.api('POST', '/message', { token: adminApp.token, json: { message: 'admin only' } });
      expect(await other.next()).toEqual(mine.body);
      s1.close();
      s2.close();
      other.close();
    });

    it('accepts Basic auth, X-Gotify-Key and Bearer on the upgrade', async () => {
      const c = await s.createClient('hdr', bob.auth);
      for (const headers of [{ Authorization: bob.auth }, { 'X-Gotify-Key': c.token }, { Authorization: 'Bearer ' + c.token }] as Record<string, string>[]) {
        const r = await tryUpgrade('/stream', headers);
        expect(r.status).toBe(101);
        r.ws!.close();
      }
    });

    it('refuses bad credentials with 401 and application tokens with 401', async () => {
      const app = await s.createApp({ name: 'x' }, bob.auth);
      for (const p of ['/stream', '/stream?token=Cnope', `/stream?token=${app.token}`]) {
        const r = await tryUpgrade(p);
        expect(r.status).toBe(401);
        expect(r.body.errorCode).toBe(401);
      }
    });

    it('checks Origin: same host and allowedorigins pass, others get 403', async () => {
      const c = await s.createClient('origin', bob.auth);
      const host = new URL(s.url).host;
      const ok1 = await tryUpgrade('/stream?token=' + c.token, { Origin: `http://${host}` });
      expect(ok1.status).toBe(101);
      ok1.ws!.close();
      const ok2 = await tryUpgrade('/stream?token=' + c.token, { Origin: 'https://Allowed.example.com' });
      expect(ok2.status).toBe(101);
      ok2.ws!.close();
      const bad = await tryUpgrade('/stream?token=' + c.token, { Origin: 'https://evil.example.com' });
      expect(bad.status).toBe(403);
      expect(bad.body.error).toBe('Forbidden');
    });

    it('accepts the public host of a proxy that rewrites Host (X-Forwarded-Host), and only that host', async () => {
      const c = await s.createClient('proxied', bob.auth);
      const proxied = { 'X-Forwarded-Host': 'flow.example.org' };
      const ok = await tryUpgrade('/stream?token=' + c.token, { ...proxied, Origin: 'https://flow.example.org' });
      expect(ok.status).toBe(101);
      ok.ws!.close();
      const bad = await tryUpgrade('/stream?token=' + c.token, { ...proxied, Origin: 'https://evil.example.org' });
      expect(bad.status).toBe(403);
    });

    it('answers a plain GET /stream (no upgrade) with 400 after auth, 401 without', async () => {
      expect((await s.api('GET', '/stream', { auth: bob.auth })).status).toBe(400);
      expect((await s.api('GET', '/stream')).status).toBe(401);
    });

    it('sends pings every pingperiodseconds', async () => {
      const c = await s.createClient('ping', bob.auth);
      const st = await s.openStream(c.token);
      const at: number[] = [];
      await new Promise<void>((resolve) =>
        st.ws.on('ping', () => {
          if (at.push(performance.now()) === 3) resolve();
        }),
      );
      st.close();
      // pingperiodseconds is 1 here: two periods lie between the first and the third ping. The
      // bound is half that, so a late first ping on a busy machine cannot fail it, while a period
      // in the wrong unit (milliseconds) or a ping per message would.
      expect(at[2]! - at[0]!).toBeGreaterThanOrEqual(1000);
    });

    it('closes the streams of a deleted client, and only those', async () => {
      const doomed = await s.createClient('doomed', bob.auth);
      const kept = await s.createClient('kept', bob.auth);
      const a = await s.openStream(doomed.token);
      const b = await s.openStream(kept.token);
      expect((await s.api('DELETE', `/client/${doomed.id}`, { auth: bob.auth })).status).toBe(200);
      expect(await a.closed).toBe(1000);
      const app = await s.createApp({ name: 'still' }, bob.auth);
      const m = await s.api('POST', '/message', { token: app.token, json: { message: 'still open' } });
      expect(await b.next()).toEqual(m.body);
      b.close();
    });

    it('closes every stream of a deleted user', async () => {
      const carl = await s.createUser('carl');
      const c = await s.createClient('c', carl.auth);
      const viaToken = await s.openStream(c.token);
      const viaBasic = await tryUpgrade('/stream', { Authorization: carl.auth });
      const basicClosed = new Promise<number>((resolve) => viaBasic.ws!.on('close', (code) => resolve(code)));
      expect((await s.api('DELETE', `/user/${carl.id}`, { auth: s.adminAuth })).status).toBe(200);
      expect(await viaToken.closed).toBe(1000);
      expect(await basicClosed).toBe(1000);
      expect(s.flow.app.hub.count(carl.id)).toBe(0);
    });
  });

  describe('lastUsed of clients with an open stream', () => {
    it('is set to now on every tick for each open stream’s token (Gotify’s 5-minute ticker), and only for those', async () => {
      const t = await startTestServer({ streamLastUsedPeriodMs: 50, config: { 'server.stream.writerprocess': writerProcess } });
      try {
        const phone = await t.createClient('phone');
        const idle = await t.createClient('idle');
        const st = await t.openStream(phone.token);
        const OLD = '2020-01-01T00:00:00.000Z';
        // The upgrade itself just touched `phone`; pretend both were used long ago. `idle` first, so
        // the tick that refreshes `phone` also saw `idle` as old.
        for (const c of [idle, phone]) await t.flow.app.store.clients.update(c.id, { lastUsed: OLD });
        const lastUsed = async (id: number): Promise<string | null> =>
          (await t.api('GET', '/client', { auth: t.adminAuth })).body.find((c: any) => c.id === id).lastUsed;
        await waitFor(async () => (await lastUsed(phone.id)) !== OLD, 'lastUsed to move');
        expect(Date.parse((await lastUsed(phone.id))!)).toBeGreaterThan(Date.parse(OLD));
        expect(await lastUsed(idle.id)).toBe(OLD);
        expect(t.flow.app.hub.connectedTokens()).toEqual([phone.token]);
        st.close();
        await waitFor(() => t.flow.app.hub.connectedTokens().length === 0, 'the stream to close');
      } finally {
        await t.close();
      }
    });
  });
});
