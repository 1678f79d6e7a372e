import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '@flow/plugin-kit';
import { createTestHost, type TestHost } from '@flow/plugin-kit/testing';
import { plugin } from './plugin.js';

const executable = fileURLToPath(new URL('../dist/flow-minimal.mjs', import.meta.url));

let host: TestHost | undefined;
afterEach(async () => {
  const violations = host?.violations;
  expect(await host?.close()).toBe(0);
  host = undefined;
  expect(violations ?? []).toEqual([]);
});

// The same checks in this process and against the bundled executable: the bundle must behave like the source.
describe.each([
  ['in-process', () => createTestHost(plugin)],
  ['bundled executable', () => createTestHost({ command: [process.execPath, executable] })],
])('minimal plugin (%s)', (_mode, start) => {
  it('introduces itself with no capabilities', async () => {
    host = await start();
    expect(host.initializeResult).toEqual({
      protocolVersion: '1.1',
      info: {
        modulePath: 'github.com/flow/plugins/minimal',
        name: 'minimal plugin',
        version: '1.0.0',
        license: 'MIT',
        description: 'The smallest Flow plugin: enable and disable, nothing else.',
      },
      capabilities: [],
    });
  });

  it('creates, enables, disables and destroys instances for several users', async () => {
    host = await start();
    const alice = await host.createInstance({ user: { id: 1, name: 'alice', admin: true } });
    const bob = await host.createInstance({ user: { id: 2, name: 'bob', admin: false } });
    await alice.enable();
    await bob.enable();
    await alice.disable();
    await bob.destroy();
    await expect(bob.enable()).rejects.toMatchObject({ code: ErrorCodes.UnknownInstance });
    await alice.enable();
  });

  it('declines what it does not implement', async () => {
    host = await start();
    const instance = await host.createInstance();
    await expect(instance.display()).rejects.toMatchObject({ code: ErrorCodes.NotSupported });
    await expect(instance.webhook({ path: '/' })).rejects.toMatchObject({ code: ErrorCodes.NotSupported });
    await expect(instance.defaultConfig()).rejects.toMatchObject({ code: ErrorCodes.NotSupported });
    expect(host.messages).toEqual([]);
  });
});
