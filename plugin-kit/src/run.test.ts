import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '@flow/protocol';
import { createTestHost, type TestHost } from './testing.js';
import { closedClean } from '../test/closed-clean.js';

/**
 * runPlugin in a real child process: what a plugin executable does with its stdio, its argv and
 * its exit code. The fixtures import the built kit (`npx tsc -b plugin-kit` first).
 */

const fixture = (name: string): string => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));

let host: TestHost | undefined;
afterEach(async () => {
  await closedClean(host);
  host = undefined;
});

interface LogLine {
  time: string;
  level: string;
  message: string;
}

function logLines(lines: readonly string[]): LogLine[] {
  return lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
}

/** Runs a command to its end with stdin closed; resolves with its exit code and output. */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end();
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('runPlugin stdout hygiene', () => {
  it('keeps stdout for frames: console and raw writes go to stderr as JSON log lines', async () => {
    host = await createTestHost({ command: [process.execPath, fixture('noisy.mjs')] });
    const instance = await host.createInstance({ user: { id: 3, name: 'carol' } });
    await instance.enable();
    expect((await instance.webhook({ path: '/a' })).text()).toBe('still here: /a');
    await host.waitFor(() => logLines(host!.stderr).some((line) => line.message.includes('thrown from a timer')));
    // Nothing but frames reached the host's reader.
    expect(host.transportProblems).toEqual([]);
    const lines = logLines(host.stderr);
    const levelOf = (text: string) => lines.find((line) => line.message.includes(text))?.level;
    expect(levelOf('loading noisy plugin')).toBe('info');
    expect(levelOf("created for carol { id: 3 }")).toBe('info');
    expect(levelOf('info line')).toBe('info');
    expect(levelOf('debug line')).toBe('debug');
    expect(levelOf('warn line')).toBe('warn');
    expect(levelOf('error line')).toBe('error');
    expect(levelOf('something wrote to stdout')).toBe('warn');
    expect(levelOf('unhandled promise rejection in plugin code (still serving): Error: forgotten promise')).toBe('error');
    expect(levelOf('uncaught exception in plugin code (still serving): Error: thrown from a timer')).toBe('error');
    // console.table and the raw write arrive as plain stderr text, not on stdout.
    expect(host.stderr).toContain('raw stdout write');
    expect(host.stderr.some((line) => line.includes('│'))).toBe(true);
    for (const line of lines) expect(Date.parse(line.time)).not.toBeNaN();
    // And after all that, it still serves.
    expect((await instance.webhook({ path: '/b' })).text()).toBe('still here: /b');
  });
});

describe('runPlugin lifecycle', () => {
  it('stops instances on shutdown and exits 0 on exit', async () => {
    host = await createTestHost({ command: [process.execPath, fixture('hang-on-stop.mjs')] });
    const instance = await host.createInstance();
    await instance.enable();
    await host.waitFor(() => host!.logs.some((line) => line.message === 'tick'));
    await host.request('shutdown', {});
    await host.waitFor(() => host!.stderr.some((line) => line.includes('ticker stopped')));
    host.notify('exit', {});
    expect(await host.exited).toBe(0);
  });

  it('exits 1 on stdin EOF without shutdown, even with a timer running', async () => {
    host = await createTestHost({ command: [process.execPath, fixture('hang-on-stop.mjs')] });
    const instance = await host.createInstance();
    await instance.enable();
    expect(await host.closeInput()).toBe(1);
    expect(host.stderr.some((line) => line.includes('ticker stopped'))).toBe(true);
  });

  it('exits 0 on stdin EOF after shutdown', async () => {
    host = await createTestHost({ command: [process.execPath, fixture('hang-on-stop.mjs')] });
    await host.request('shutdown', {});
    expect(await host.closeInput()).toBe(0);
  });

  it('exits with a pending handler that never finishes when the host says exit', async () => {
    host = await createTestHost({ command: [process.execPath, fixture('noisy.mjs')] });
    const instance = await host.createInstance();
    const hanging = instance.webhook({ path: '/hang' }).catch((error: unknown) => error);
    expect(await host.close()).toBe(0);
    expect(await hanging).toMatchObject({ code: ErrorCodes.TransportClosed });
  });
});

describe('runPlugin orphan watch', () => {
  it('exits when its parent dies even though stdin stays open', async () => {
    // The plugin's stdin is the stdout of a holder process that writes `initialize` and then lives
    // on, so no EOF can end the plugin. A launcher starts the plugin, waits for its answer (the
    // plugin is serving: its parent is recorded) and exits: the plugin is re-parented, and only the
    // parent watch can end it. 'close' fires once the plugin, which shares the launcher's stderr,
    // has exited.
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersions: ['1.0'], host: { name: 't', version: '0' }, limits: { maxFrameBytes: 8388608, storageQuotaBytes: 4096, webhookBodyBytes: 4096 } } });
    const holderScript = `process.stdout.write(${JSON.stringify(`Content-Length: ${initialize.length}\r\n\r\n${initialize}`)}); setInterval(() => {}, 1000);`;
    const holder = spawn(process.execPath, ['-e', holderScript], { stdio: ['ignore', 'pipe', 'ignore'] });
    const launcher = `const plugin = require('node:child_process').spawn(process.execPath, [${JSON.stringify(fixture('hang-on-stop.mjs'))}], { stdio: ['inherit', 'pipe', 'inherit'] }); plugin.stdout.once('data', () => process.exit(0));`;
    const child = spawn(process.execPath, ['-e', launcher], { env: { PATH: process.env.PATH ?? '', FLOW_PLUGIN_PROTOCOL: '1.0' }, stdio: [holder.stdout, 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    holder.kill();
    expect(stderr).toContain('the host process is gone; exiting');
  });
});

describe('runPlugin by hand', () => {
  it('explains itself and exits 1 when not launched by a host', async () => {
    const { code, stdout, stderr } = await run([fixture('hang-on-stop.mjs')]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('github.com/flow/test/ticker: a Flow plugin.');
    expect(stderr).toContain("copy this file into the server's plugins folder");
  });

  it('explains itself in a terminal even with the launch marker set', async () => {
    // script(1) gives the plugin a pseudo-terminal as stdin, as a person's shell would.
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('script', ['-qec', `"${process.execPath}" "${fixture('hang-on-stop.mjs')}"`, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '', FLOW_PLUGIN_PROTOCOL: '1.0' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('github.com/flow/test/ticker: a Flow plugin.');
  });

  it('prints its info as JSON with --info', async () => {
    const { code, stdout } = await run([fixture('noisy.mjs'), '--info'], { FLOW_PLUGIN_PROTOCOL: '1.0' });
    expect(code).toBe(0);
    // The fixture's console.log before runPlugin went to stderr: stdout is exactly one line of JSON.
    expect(stdout.endsWith('}\n') && stdout.split('\n').length === 2).toBe(true);
    expect(JSON.parse(stdout)).toEqual({
      info: { name: 'noisy', modulePath: 'github.com/flow/test/noisy', version: '0.0.1' },
      capabilities: ['webhooker'],
      protocolVersions: ['1.1'],
    });
  });

  it('prints usage with --help and refuses unknown options with exit 2', async () => {
    const help = await run([fixture('hang-on-stop.mjs'), '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: hang-on-stop.mjs \[--info \| --help \| --stdio\]/);
    const bad = await run([fixture('hang-on-stop.mjs'), '--serve']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option --serve/);
  });

  it('serves with --stdio without the launch marker', async () => {
    host = await createTestHost({ command: [process.execPath, fixture('hang-on-stop.mjs'), '--stdio'], env: { FLOW_PLUGIN_PROTOCOL: undefined } });
    expect(host.initializeResult?.info.modulePath).toBe('github.com/flow/test/ticker');
  });
});
