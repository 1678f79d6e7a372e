import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { basic, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s?.close());

/** GET /current/user from a chosen loopback address (127.0.0.0/8 is all loopback on Linux). */
function fromAddress(localAddress: string, auth: string): Promise<{ status: number; retryAfter?: string; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${s.url}/current/user`, { localAddress, headers: { Authorization: auth } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('login throttling', () => {
  it('refuses a source address after 10 wrong passwords with 429 and Retry-After, other addresses unaffected', async () => {
    await s.createUser('bob', 'right');
    for (let i = 0; i < 10; i++) expect((await fromAddress('127.0.0.2', basic('bob', 'wrong' + i))).status).toBe(401);
    const refused = await fromAddress('127.0.0.2', basic('bob', 'wrong'));
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({ error: 'Too Many Requests', errorCode: 429 });
    // Even the right password waits: the source is refused before any check.
    expect((await fromAddress('127.0.0.2', basic('bob', 'right'))).status).toBe(429);
    // Another address is not throttled (bob's name has failed 10 times, under its own limit).
    expect((await fromAddress('127.0.0.3', basic('bob', 'right'))).status).toBe(200);
  });

  it('refuses a user name guessed from many addresses, but not credentials verified before', async () => {
    await s.createUser('carl', 'right');
    // Verified once: cached for a minute, so carl's own client keeps working.
    expect((await fromAddress('127.0.0.4', basic('carl', 'right'))).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await fromAddress(`127.0.1.${i + 1}`, basic('carl', 'wrong'))).status).toBe(401);
    const refused = await fromAddress('127.0.2.1', basic('carl', 'wrong'));
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect((await fromAddress('127.0.2.2', basic('carl', 'right'))).status).toBe(200);
    // Other users are not affected.
    expect((await fromAddress('127.0.2.3', s.adminAuth)).status).toBe(200);
  });
});
