import { describe, expect, it } from 'vitest';
import { matchRoute } from './router';

describe('matchRoute', () => {
  it('returns the named parts of a matching path', () => {
    expect(matchRoute('/plugins/:id', '/plugins/12')).toEqual({ id: '12' });
    expect(matchRoute('/messages/:id', '/messages/3/')).toEqual({ id: '3' });
  });

  it('returns null for other paths', () => {
    expect(matchRoute('/plugins/:id', '/plugins')).toBeNull();
    expect(matchRoute('/plugins/:id', '/plugin/1')).toBeNull();
    expect(matchRoute('/plugins/:id', '/plugins/1/config')).toBeNull();
  });
});
