import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/** The built `flow-plugin` bin (dist/cli/main.js), run as a user runs it. */

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const greeter = fileURLToPath(new URL('../../test/fixtures/greeter-main.ts', import.meta.url));
const minimal = fileURLToPath(new URL('../../../plugins/minimal/dist/flow-minimal.mjs', import.meta.url));
const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;

function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: { PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const scratch = mkdtemp(join(tmpdir(), 'flow-plugin-cli-'));
afterAll(async () => rm(await scratch, { recursive: true, force: true }));

describe('flow-plugin', () => {
  it('lists its commands, and refuses an unknown one with exit 2', async () => {
    const help = await run(process.execPath, [bin, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: flow-plugin <command>/);
    expect(help.stdout).toMatch(/\n {2}info {2,}launch a plugin/);
    const unknown = await run(process.execPath, [bin, 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('info launches a plugin like the server and prints its initialize result', async () => {
    const { code, stdout } = await run(process.execPath, [bin, 'info', '--', process.execPath, minimal]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ protocolVersion: '1.1', info: { modulePath: 'github.com/flow/plugins/minimal' }, capabilities: [] });
  });

  it('info reports a program that is not a plugin, with its stderr', async () => {
    const { code, stderr } = await run(process.execPath, [bin, 'info', '--', process.execPath, '-e', 'console.error("no protocol here")']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/flow-plugin info: initialize: the connection closed before the answer arrived/);
    expect(stderr).toContain('plugin stderr: no protocol here');
  });

  it('bundle makes one executable file that runs on its own', async () => {
    const out = join(await scratch, 'plugins', 'flow-greeter.mjs');
    const bundled = await run(process.execPath, [bin, 'bundle', greeter, out]);
    expect(bundled.code).toBe(0);
    expect((await stat(out)).mode & 0o111).toBe(0o111);
    const info = await run(out, ['--info']);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toEqual({
      info: { modulePath: 'github.com/you/flow-greeter', name: 'greeter', version: '1.0.0', license: 'MIT' },
      capabilities: ['configurer', 'displayer', 'messenger', 'storager', 'webhooker'],
      protocolVersions: ['1.1'],
    });
  });
});
