import { describe, expect, it } from 'vitest';
import { parseChange } from './notify-payload.js';

describe('parseChange', () => {
  it('reads a message notification: id, user and origin', () => {
    expect(parseChange('m:42:7/flow/3f2c')).toEqual({ kind: 'message', id: 42, userId: 7, origin: 'flow/3f2c' });
  });

  it('reads the cached entities', () => {
    expect(parseChange('u:1/flow/a')).toEqual({ kind: 'entity', entity: 'user', id: 1, origin: 'flow/a' });
    expect(parseChange('c:2/psql')).toEqual({ kind: 'entity', entity: 'client', id: 2, origin: 'psql' });
    expect(parseChange('a:3/')).toEqual({ kind: 'entity', entity: 'application', id: 3, origin: '' });
    expect(parseChange('p:4/flow/b')).toEqual({ kind: 'entity', entity: 'pluginConf', id: 4, origin: 'flow/b' });
  });

  it('ignores what it does not know rather than guessing', () => {
    for (const bad of ['', 'm:42:7', 'x:1/flow', 'm:1/flow', 'u:0/flow', 'u:-1/flow', 'u:1.5/flow', 'u:abc/flow', 'm:1:x/flow', 'u:1:2/flow', 'u:99999999999999999999/flow']) {
      expect(parseChange(bad), bad).toBeUndefined();
    }
  });
});
