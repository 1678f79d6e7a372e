import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@flow/protocol';
import { definePlugin } from './define.js';
import { PluginInstance } from './instance.js';
import { createTestHost } from './testing.js';

/** The test host itself: what a plugin author sees when their plugin cannot even start. */
describe('createTestHost', () => {
  it('names a command that cannot be started', async () => {
    await expect(createTestHost({ command: ['/nonexistent/flow-plugin'] })).rejects.toThrow(
      /^the plugin did not complete the handshake: cannot start \/nonexistent\/flow-plugin: spawn \/nonexistent\/flow-plugin ENOENT/,
    );
  });

  it('shows the last stderr lines of a plugin that dies at start', async () => {
    const crash = "console.error('Error: Cannot find module ./missing.js'); process.exit(3)";
    await expect(createTestHost({ command: [process.execPath, '-e', crash] })).rejects.toThrow(/closed before the answer arrived\nlast stderr lines:\n {2}Error: Cannot find module \.\/missing\.js$/);
  });

  it('gives the handshake the host\'s requestTimeoutMs instead of the protocol\'s 10 s', async () => {
    // Reads everything and answers nothing; leaves on the `exit` notification that close() sends.
    const silent = "process.stdin.on('data', (d) => { if (String(d).includes('\"method\":\"exit\"')) process.exit(0); })";
    await expect(createTestHost({ command: [process.execPath, '-e', silent], requestTimeoutMs: 300 })).rejects.toThrow(
      /^the plugin did not complete the handshake: initialize got no answer within 300 ms/,
    );
  });

  it('keeps the code of a refused handshake', async () => {
    class Minimal extends PluginInstance {}
    const plugin = definePlugin({ info: { modulePath: 'github.com/flow/test/minimal' }, instance: Minimal });
    await expect(createTestHost(plugin, { protocolVersions: ['9.0'] })).rejects.toMatchObject({ code: ErrorCodes.IncompatibleVersion, data: { hostVersions: ['9.0'], pluginVersions: ['1.1'] } });
  });

  it('enforces the storage quota over blob and keys together', async () => {
    class Saver extends PluginInstance {
      async handleWebhook(request: { text(): string; path: string }) {
        if (request.path === '/blob') await this.ctx.storage.save(request.text());
        else await this.ctx.kv.set(request.path.slice(1), request.text());
        return {};
      }
    }
    const plugin = definePlugin({ info: { modulePath: 'github.com/flow/test/saver' }, instance: Saver, uses: ['storager'] });
    const host = await createTestHost(plugin, { limits: { storageQuotaBytes: 20 } });
    const instance = await host.createInstance();
    await instance.webhook({ path: '/blob', body: '0123456789' });
    await instance.webhook({ path: '/k', body: '012345678' });
    expect(instance.usedBytes()).toBe(20);
    await expect(instance.webhook({ path: '/k', body: '0123456789' })).rejects.toMatchObject({ message: 'storage quota of 20 bytes exceeded' });
    // Shrinking is always allowed.
    await instance.webhook({ path: '/blob', body: '' });
    expect(instance.usedBytes()).toBe(10);
    expect(host.violations).toEqual([]);
    await host.close();
  });
});
