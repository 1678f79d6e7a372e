import { describe, expect, it } from 'vitest';
import { attachProxyTrust, clientAddress, forwardedHeadersTrusted, ProxyTrust, type ProxiedRequest } from './location.js';

const req = (remoteAddress: string, headers: Record<string, string> = {}): ProxiedRequest => ({ headers, socket: { remoteAddress } });
const behind = (trust: ProxyTrust, r: ProxiedRequest) => {
  attachProxyTrust(r, trust);
  return r;
};

describe('trusted proxies (server.trustedproxies)', () => {
  const trust = new ProxyTrust(['10.0.0.0/8', '192.168.1.1', 'fd00::/8']);

  it('matches addresses, ranges, IPv6 and IPv4-mapped peers', () => {
    expect(['10.2.3.4', '192.168.1.1', '::ffff:10.0.0.1', 'fd00::5'].map((a) => trust.trusts(a))).toEqual([true, true, true, true]);
    expect(['11.0.0.1', '192.168.1.2', 'fe80::1', 'garbage', undefined].map((a) => trust.trusts(a))).toEqual([false, false, false, false, false]);
  });

  it('takes the client from X-Forwarded-For read from the right, skipping trusted hops, as gin', () => {
    expect(clientAddress(behind(trust, req('10.0.0.1', { 'x-forwarded-for': '203.0.113.9, 198.51.100.1, 10.0.0.2' })))).toBe('198.51.100.1');
    expect(clientAddress(behind(trust, req('10.0.0.1', { 'x-forwarded-for': '10.0.0.3, 10.0.0.2' })))).toBe('10.0.0.3');
    expect(clientAddress(behind(trust, req('10.0.0.1', { 'x-real-ip': '203.0.113.9' })))).toBe('203.0.113.9');
    expect(clientAddress(behind(trust, req('::ffff:10.0.0.1', { 'x-forwarded-for': '2001:db8::1' })))).toBe('2001:db8::1');
    // A malformed hop ends the walk at the peer; no header, the peer.
    expect(clientAddress(behind(trust, req('10.0.0.1', { 'x-forwarded-for': '203.0.113.9, not-an-ip' })))).toBe('10.0.0.1');
    expect(clientAddress(behind(trust, req('10.0.0.1')))).toBe('10.0.0.1');
  });

  it("ignores anyone else's headers; with no list, the peer is the client and URL headers are read from all", () => {
    const stranger = behind(trust, req('203.0.113.1', { 'x-forwarded-for': '198.51.100.1' }));
    expect([clientAddress(stranger), forwardedHeadersTrusted(stranger)]).toEqual(['203.0.113.1', false]);
    const unconfigured = behind(new ProxyTrust([]), req('203.0.113.1', { 'x-forwarded-for': '198.51.100.1' }));
    expect([clientAddress(unconfigured), forwardedHeadersTrusted(unconfigured)]).toEqual(['203.0.113.1', true]);
  });
});
