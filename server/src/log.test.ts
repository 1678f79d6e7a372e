import { describe, expect, it } from 'vitest';
import { maskUrl } from './log.js';

describe('maskUrl', () => {
  it.each([
    ['/message?token=AbCd.efg-hij_kl', '/message?token=[masked]'],
    ['/stream?x=1&token=C123&y=2', '/stream?x=1&token=[masked]&y=2'],
    ['/stream?TOKEN=C123', '/stream?TOKEN=[masked]'],
    ['/plugin/12/custom/PsecretTokenValue/echo?token=x', '/plugin/12/custom/[masked]/echo?token=[masked]'],
    ['/plugin/12/custom/PsecretTokenValue', '/plugin/12/custom/[masked]'],
    ['/application/1/message?limit=2', '/application/1/message?limit=2'],
    ['/message?notatoken=1', '/message?notatoken=1'],
  ])('%s → %s', (input, out) => {
    expect(maskUrl(input)).toBe(out);
  });
});
