import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { pluginsDir, startPluginServer, type PluginServer } from '../helpers/plugins.js';

let s: PluginServer;
beforeAll(async () => {
  s = await startPluginServer(await pluginsDir(['mock']), { 'limits.bodytimeoutms': 500 });
});
afterAll(() => s?.close());

/**
 * Sends the head of a request announcing a body, then only `partial` bytes of it, and resolves
 * with the status line the server answers while the rest never comes (or '' if it closes silently).
 */
function partialBody(head: string, partial: string): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(s.port, '127.0.0.1', () => c.write(head + partial));
    let got = '';
    c.on('data', (d) => {
      got += String(d);
      if (got.includes('\r\n')) {
        resolve(got.split('\r\n')[0]!);
        c.destroy();
      }
    });
    c.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    c.on('error', () => resolve(''));
  });
}

const head = (method: string, path: string, extra = '') =>
  `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 900000\r\n${extra}\r\n`;

describe('slow request bodies', () => {
  it('answers anonymous POST /user (registration off) before reading its body', async () => {
    expect(await partialBody(head('POST', '/user'), '{"name":"x",')).toBe('HTTP/1.1 401 Unauthorized');
  });

  it('answers a webhook with a wrong token before reading its body', async () => {
    const [conf] = await s.plugins();
    expect(await partialBody(head('POST', `/plugin/${conf.id}/custom/Pnotthetoken/x`), 'abc')).toBe('HTTP/1.1 404 Not Found');
    // Disabled: Gotify's 400, also before the body.
    expect(await partialBody(head('POST', `/plugin/${conf.id}/custom/${conf.token}/x`), 'abc')).toBe('HTTP/1.1 400 Bad Request');
  });

  it('times out a body that does not arrive (408) and closes the connection', async () => {
    const app = await s.createApp({ name: 'slow' });
    expect(await partialBody(head('POST', '/message', `X-Gotify-Key: ${app.token}\r\n`), '{"message":')).toBe('HTTP/1.1 408 Request Timeout');
    const auth = `Authorization: ${s.adminAuth}\r\n`;
    expect(await partialBody(head('POST', '/user', auth), '{"name":')).toBe('HTTP/1.1 408 Request Timeout');
    expect((await s.api('GET', '/health')).status).toBe(200);
  });
});
