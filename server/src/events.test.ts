import { describe, expect, it } from 'vitest';
import { EventBus } from './events.js';

const user = { id: 1, name: 'a', passHash: 'h', admin: true };

describe('EventBus', () => {
  it('calls handlers in order and stops calling unsubscribed ones', async () => {
    const bus = new EventBus();
    const calls: string[] = [];
    bus.on('userAdded', () => void calls.push('one'));
    const off = bus.on('userAdded', async () => void calls.push('two'));
    await bus.emit('userAdded', { user });
    off();
    off();
    await bus.emit('userAdded', { user });
    expect(calls).toEqual(['one', 'two', 'one']);
  });

  it('runs every handler and rejects with the first failure', async () => {
    const bus = new EventBus();
    const calls: string[] = [];
    bus.on('userDeleting', () => {
      throw new Error('veto');
    });
    bus.on('userDeleting', async () => void calls.push('after'));
    await expect(bus.emit('userDeleting', { user })).rejects.toThrow('veto');
    expect(calls).toEqual(['after']);
  });

  it('emitSafe reports failures to onError instead of throwing', async () => {
    const errors: unknown[] = [];
    let reported = (): void => undefined;
    const onReport = new Promise<void>((r) => (reported = r));
    const bus = new EventBus((_e, err) => {
      errors.push(err);
      reported();
    });
    bus.on('userDeleted', async () => {
      throw new Error('boom');
    });
    expect(bus.emitSafe('userDeleted', { user })).toBeUndefined();
    await onReport;
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom']);
  });
});
