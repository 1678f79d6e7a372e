import { describe, expect, it } from 'vitest';
import { ed25519ph } from '@noble/curves/ed25519.js';
import { checkEnhancedToken, newEnhancedToken, signEnhancedToken } from './enhanced-token.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));

describe('enhanced tokens (Gotify 3)', () => {
  it('uses RFC 8032 Ed25519ph, the scheme of Go ed25519 with Options{Hash: SHA512} (RFC 8032 §7.3 vector)', () => {
    const secret = hex('833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42');
    const pub = hex('ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf');
    const sig = hex(
      '98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406',
    );
    expect(ed25519ph.sign(new TextEncoder().encode('abc'), secret)).toEqual(sig);
    expect(ed25519ph.verify(sig, new TextEncoder().encode('abc'), pub)).toBe(true);
  });

  it('maps the private form and a fresh signed form to the stored public form', () => {
    const t = newEnhancedToken('a');
    expect(t.privateForm).toMatch(/^gtfya\.[A-Za-z0-9_-]{43}$/);
    expect(checkEnhancedToken(t.privateForm)).toEqual({ ok: true, publicForm: t.publicForm });
    const now = 1_800_000_000;
    const signed = signEnhancedToken(t.privateForm, now);
    expect(signed.split('.')).toHaveLength(4);
    expect(checkEnhancedToken(signed, now + 60)).toEqual({ ok: true, publicForm: t.publicForm });
    // The public form alone is not a credential: it is a 32-byte seed of nothing the owner holds.
    expect(checkEnhancedToken(t.publicForm)).not.toEqual({ ok: true, publicForm: t.publicForm });
  });

  it('refuses a stale or future timestamp (±15 minutes), a changed signature and malformed tokens', () => {
    const t = newEnhancedToken('c');
    const signed = signEnhancedToken(t.privateForm, 1000);
    expect(checkEnhancedToken(signed, 1000 + 15 * 60 + 1)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(checkEnhancedToken(signed, 1000 - 15 * 60 - 1)).toMatchObject({ ok: false, reason: 'invalid' });
    const last = signed.lastIndexOf('.');
    const mutated = signed.slice(0, last + 1) + (signed[last + 1] === 'A' ? 'B' : 'A') + signed.slice(last + 2);
    expect(checkEnhancedToken(mutated, 1000)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(checkEnhancedToken('gtfyc.abc')).toMatchObject({ ok: false, reason: 'unparsable' });
    expect(checkEnhancedToken('gtfyc.a.b.c.d')).toMatchObject({ ok: false, reason: 'unparsable' });
    expect(checkEnhancedToken('gtfyc.' + 'A'.repeat(43) + '.x.' + 'A'.repeat(86))).toMatchObject({ ok: false, reason: 'unparsable' });
  });
});
