import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// As the README shows it: through the package, like the example plugin imports the kit.
import { createTestHost } from '@flow/plugin-kit/testing';
import { plugin } from '../test/fixtures/greeter.js';

/** The README's example is real code: the fixture is its first block, and its testing block runs here. */

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);

describe('README', () => {
  it('shows exactly the example plugin that this test runs', () => {
    expect(blocks[0]!.replace('// src/plugin.ts\n', '')).toBe(readFileSync(new URL('../test/fixtures/greeter.ts', import.meta.url), 'utf8'));
    expect(blocks[0]!.split('\n').length + blocks[1]!.split('\n').length).toBeLessThan(50);
  });

  it('runs its testing example', async () => {
    const host = await createTestHost(plugin);
    const inst = await host.createInstance({ user: { id: 1, name: 'alice', admin: false } });
    await inst.setConfig('greeting: hi');
    await inst.enable();
    const reply = await inst.webhook({ method: 'POST', path: '/greet', body: 'bob' });
    expect(reply.json()).toEqual({ greeted: 'bob' });
    expect(host.messages[0]).toMatchObject({ message: 'hi, bob!' });
    expect(inst.kv.get('last')).toBe('bob');
    await expect(inst.setConfig('greeting: "  "')).rejects.toMatchObject({ message: 'greeting must not be empty' });
    expect(await inst.display({ scheme: 'https', host: 'flow.example' })).toBe(`POST a name to \`https://flow.example${inst.webhookBasePath}greet\` and get a notification.`);
    expect(host.violations).toEqual([]);
    expect(await host.close()).toBe(0);
  });
});
