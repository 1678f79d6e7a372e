import { describe, expect, it } from 'vitest';
import { messagesPayloads, parseChange } from './notify-payload.js';

describe('parseChange', () => {
  it('reads a message announcement: ids, users and origin', () => {
    expect(parseChange('m:42:7/flow/3f2c')).toEqual({ kind: 'messages', messages: [{ id: 42, userId: 7 }], origin: 'flow/3f2c' });
    expect(parseChange('m:42:7,43:8/flow/3f2c')).toEqual({ kind: 'messages', messages: [{ id: 42, userId: 7 }, { id: 43, userId: 8 }], origin: 'flow/3f2c' });
  });

  it('announces many messages in as few payloads as fit under NOTIFY\'s 8,000 bytes, in order, and reads them back', () => {
    const messages = Array.from({ length: 3_000 }, (_, i) => ({ id: 1_000_000 + i, userId: (i % 7) + 1 }));
    const payloads = messagesPayloads(messages, 'flow/0f8c2a1e-7c55-4d39-9a53-5b0d3f3c2a10');
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(8_000);
    const back = payloads.flatMap((p) => {
      const c = parseChange(p);
      return c?.kind === 'messages' ? c.messages : [];
    });
    expect(back).toEqual(messages);
  });

  it('reads the cached entities', () => {
    expect(parseChange('u:1/flow/a')).toEqual({ kind: 'entity', entity: 'user', id: 1, origin: 'flow/a' });
    expect(parseChange('c:2/psql')).toEqual({ kind: 'entity', entity: 'client', id: 2, origin: 'psql' });
    expect(parseChange('a:3/')).toEqual({ kind: 'entity', entity: 'application', id: 3, origin: '' });
    expect(parseChange('p:4/flow/b')).toEqual({ kind: 'entity', entity: 'pluginConf', id: 4, origin: 'flow/b' });
    expect(parseChange('r:1/flow/c')).toEqual({ kind: 'entity', entity: 'pluginPermissions', id: 1, origin: 'flow/c' });
  });

  it('ignores what it does not know rather than guessing', () => {
    for (const bad of ['', 'm:42:7', 'x:1/flow', 'm:1/flow', 'm:1:2,/flow', 'm:1:2:3/flow', 'u:0/flow', 'u:-1/flow', 'u:1.5/flow', 'u:abc/flow', 'm:1:x/flow', 'u:1:2/flow', 'u:99999999999999999999/flow']) {
      expect(parseChange(bad), bad).toBeUndefined();
    }
  });
});
