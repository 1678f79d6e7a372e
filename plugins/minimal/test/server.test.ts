import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginsDir, startPluginServer, type PluginServer } from '../../../test/helpers/plugins.js';

// The bundled executable (`npm run bundle -w @flow/plugin-minimal`), exactly what a user copies into pluginsdir.
const EXECUTABLE = fileURLToPath(new URL('../dist/flow-minimal.mjs', import.meta.url));

describe('minimal plugin in a real server', () => {
  let s: PluginServer;
  let plugin: { id: number; name: string; modulePath: string; enabled: boolean; capabilities: string[]; status: string };

  beforeAll(async () => {
    const dir = await pluginsDir();
    await symlink(EXECUTABLE, path.join(dir, 'flow-minimal.mjs'));
    s = await startPluginServer(dir);
    plugin = (await s.plugins()).find((p: { modulePath: string }) => p.modulePath === 'github.com/flow/plugins/minimal');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('is listed with its info, no capabilities, disabled and running', () => {
    expect(plugin).toMatchObject({
      name: 'minimal plugin',
      modulePath: 'github.com/flow/plugins/minimal',
      version: '1.0.0',
      license: 'MIT',
      enabled: false,
      capabilities: [],
      status: 'running',
    });
  });

  it('enables and disables with Gotify answers', async () => {
    const enable = () => s.api('POST', `/plugin/${plugin.id}/enable`, { auth: s.adminAuth });
    const disable = () => s.api('POST', `/plugin/${plugin.id}/disable`, { auth: s.adminAuth });
    expect((await enable()).status).toBe(200);
    expect((await s.plugins()).find((p: { id: number }) => p.id === plugin.id)).toMatchObject({ enabled: true });
    expect((await enable()).status).toBe(400);
    expect((await disable()).status).toBe(200);
    expect((await disable()).status).toBe(400);
  });

  it('has no config and an empty display', async () => {
    expect((await s.api('GET', `/plugin/${plugin.id}/config`, { auth: s.adminAuth })).status).toBe(400);
    const display = await s.api('GET', `/plugin/${plugin.id}/display`, { auth: s.adminAuth });
    expect(display.status).toBe(200);
    expect(display.body).toBe('');
  });

  it('logs nothing on stderr while it works', async () => {
    const processes = await s.api('GET', '/plugin/admin/processes', { auth: s.adminAuth });
    const minimal = processes.body.find((p: { modulePath: string }) => p.modulePath === 'github.com/flow/plugins/minimal');
    expect(minimal).toMatchObject({ status: 'running', restarts: 0, stderr: [] });
  });
});
