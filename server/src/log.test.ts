import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskUrl } from './log.js';

/** A logger at info level whose lines are kept in memory: `out()` is everything written so far. */
function capturedLogger() {
  let written = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      written += String(chunk);
      cb();
    },
  });
  return { log: createLogger({ level: 'info', destination: sink }), out: () => written };
}

describe('maskUrl', () => {
  it.each([
    ['/message?token=AbCd.efg-hij_kl', '/message?token=[masked]'],
    ['/stream?x=1&token=C123&y=2', '/stream?x=1&token=[masked]&y=2'],
    ['/stream?TOKEN=C123', '/stream?TOKEN=[masked]'],
    ['/plugin/12/custom/PsecretTokenValue/echo?token=x', '/plugin/12/custom/[masked]/echo?token=[masked]'],
    ['/plugin/12/custom/PsecretTokenValue', '/plugin/12/custom/[masked]'],
    // cleanPath() collapses slashes, so these reach the webhook too.
    ['//plugin/12/custom/PsecretTokenValue/echo', '//plugin/12/custom/[masked]/echo'],
    ['/plugin//12/custom//PsecretTokenValue', '/plugin//12/custom//[masked]'],
    // A webhook another replica relayed here (cluster/forward-endpoint.ts) carries the same token.
    ['/internal/cluster/relay/plugin/12/custom/PsecretTokenValue/echo', '/internal/cluster/relay/plugin/12/custom/[masked]/echo'],
    ['/internal/cluster/other/plugin/12/custom/x', '/internal/cluster/other/plugin/12/custom/x'],
    ['/application/1/message?limit=2', '/application/1/message?limit=2'],
    ['/message?notatoken=1', '/message?notatoken=1'],
    // Decoded before judging: these authenticate (or route) exactly like the plain forms.
    ['/message?%74oken=Secret', '/message?%74oken=[masked]'],
    ['/message?%54OKEN=Secret&a=1', '/message?%54OKEN=[masked]&a=1'],
    ['/%70lugin/1/%63ustom/Secret/x', '/%70lugin/1/%63ustom/[masked]/x'],
    // Absolute-form request lines are routed by their path; user info is a credential too.
    ['http://host/plugin/2/custom/Secret/x', 'http://host/plugin/2/custom/[masked]/x'],
    ['HTTP://u:Secret@host:80/message?token=Secret', 'HTTP://[masked]@host:80/message?token=[masked]'],
    ['/message?%zz=1&token=Secret', '/message?%zz=1&token=[masked]'],
    // What an OIDC provider's redirect brings (code, state, and the tokens of implicit-style providers).
    ['/auth/oidc/callback?code=Secret&state=S2&iss=https%3A%2F%2Fid', '/auth/oidc/callback?code=[masked]&state=[masked]&iss=https%3A%2F%2Fid'],
    ['/auth/oidc/callback?id_token=a.b.c&access_token=x&Code_Verifier=v', '/auth/oidc/callback?id_token=[masked]&access_token=[masked]&Code_Verifier=[masked]'],
  ])('%s → %s', (input, out) => {
    expect(maskUrl(input)).toBe(out);
  });
});

describe('createLogger', () => {
  it('censors passwords, tokens and auth headers wherever they are logged', async () => {
    const { log, out } = capturedLogger();
    log.info({ pass: 'p1', token: 't1', user: { password: 'p2', token: 't2' }, req: { headers: { authorization: 'Basic abc', 'x-gotify-key': 'Ck' } } }, 'x');
    const line = JSON.parse(out().trim());
    expect(line.pass).toBe('[masked]');
    expect(line.token).toBe('[masked]');
    expect(line.user).toEqual({ password: '[masked]', token: '[masked]' });
    expect(line.req.headers).toEqual({ authorization: '[masked]', 'x-gotify-key': '[masked]' });
  });
});

describe('error serialization', () => {
  it('drops the raw packet of an HTTP parser error (it holds the request line and headers)', async () => {
    const { log, out } = capturedLogger();
    const err = Object.assign(new Error('Parse Error: Invalid character in chunk size'), {
      code: 'HPE_INVALID_CHUNK_SIZE',
      rawPacket: Buffer.from('POST /message?token=Secret HTTP/1.1\r\nAuthorization: Basic c2VjcmV0\r\n'),
    });
    log.error({ err: new Error('wrapped', { cause: err }) }, 'x');
    log.error({ err }, 'y');
    expect(out()).not.toMatch(/Secret|c2VjcmV0|"data":\[/);
    expect(out()).toContain('HPE_INVALID_CHUNK_SIZE');
  });
});
