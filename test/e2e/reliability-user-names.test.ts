import { afterEach, describe, expect, it } from 'vitest';
import { basic, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

// JSON.stringify keeps a lone surrogate as the escape `\ud800`, which is what an attacker sends.
const lone = 'eve\ud800';

describe('user names that are not valid Unicode', () => {
  it('are refused with 400, so no second user of the "same" name can appear after a restart', async () => {
    s = await startTestServer();
    const created = await s.api('POST', '/user', { auth: s.adminAuth, json: { name: lone, pass: 'one', admin: false } });
    expect(created.status).toBe(400);
    expect(created.body.errorDescription).toMatch(/name.*Unicode/);
    const bob = await s.createUser('bob', 'pw');
    const renamed = await s.api('POST', `/user/${bob.id}`, { auth: s.adminAuth, json: { name: 'bob\udfff', admin: false } });
    expect(renamed.status).toBe(400);
    const badPass = await s.api('POST', '/current/user/password', { auth: bob.auth, json: { pass: 'x\udbff' } });
    expect(badPass.status).toBe(400);

    await s.restart();
    // Nothing was stored under the name U+FFFD would have become, and the valid names still work.
    expect((await s.api('GET', '/user', { auth: s.adminAuth })).body.map((u: any) => u.name)).toEqual(['admin', 'bob']);
    expect((await s.api('GET', '/current/user', { auth: basic('bob', 'pw') })).status).toBe(200);
    // A valid surrogate pair (an emoji) is a fine name.
    expect((await s.api('POST', '/user', { auth: s.adminAuth, json: { name: 'eve😀', pass: 'x' } })).status).toBe(200);
  });
});
