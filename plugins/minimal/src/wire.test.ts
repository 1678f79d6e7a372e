import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolChecker } from '@flow/plugin-kit/testing';
import { ConversationChecker } from '../../../protocol/test-support/schemas.js';

/**
 * The built executable (dist/flow-minimal.mjs, `npm run bundle -w @flow/plugin-minimal`) on a
 * real pipe, with every frame written and read by hand as bytes: no vscode-jsonrpc and no kit
 * code on this side, so what is asserted is exactly what spec/protocol.md puts on the wire.
 * Every message both ways is validated against spec/schemas/ (JSON Schema) and the plugin's
 * against the protocol's zod schemas.
 */

const executable = fileURLToPath(new URL('../dist/flow-minimal.mjs', import.meta.url));

const INFO = '{"modulePath":"github.com/flow/plugins/minimal","name":"minimal plugin","version":"1.0.0","license":"MIT","description":"The smallest Flow plugin: enable and disable, nothing else."}';

/** A frame exactly as spec §2.2 shows it. */
const frame = (json: string): string => `Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`;

class WirePlugin {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exit: Promise<number | null>;
  /** Every byte the plugin wrote to stdout. */
  stdout = Buffer.alloc(0);
  stderr = '';
  /** Bytes of stdout consumed as whole frames. */
  offset = 0;
  private wake: (() => void) | undefined;
  readonly jsonSchemas = new ConversationChecker();
  readonly zodSchemas = new ProtocolChecker('pluginToHost');

  constructor() {
    // Run the file itself, as a host does: its shebang and mode make it an executable.
    this.child = spawn(executable, [], {
      env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, FLOW_PLUGIN_PROTOCOL: '1.0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.stdout = Buffer.concat([this.stdout, chunk]);
      this.wake?.();
    });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exit = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Writes bytes exactly as given. `valid` messages are also checked against the schemas. */
  write(bytes: string | Buffer, ...valid: string[]): void {
    for (const json of valid) this.record(JSON.parse(json) as Record<string, unknown>, 'host');
    this.child.stdin.write(bytes);
  }

  /** The next frame's raw bytes, which must start exactly where the previous one ended. */
  async nextFrame(): Promise<string> {
    for (;;) {
      const rest = this.stdout.subarray(this.offset);
      const match = /^Content-Length: (\d+)\r\n\r\n/.exec(rest.toString('latin1', 0, Math.min(rest.length, 40)));
      if (rest.length > 0 && !match && rest.length >= 40) throw new Error(`stdout does not continue with a frame: ${JSON.stringify(rest.toString('utf8', 0, 80))}`);
      if (match && rest.length >= match[0].length + Number(match[1])) {
        const end = match[0].length + Number(match[1]);
        this.offset += end;
        const text = rest.toString('utf8', 0, end);
        this.record(JSON.parse(text.slice(match[0].length)) as Record<string, unknown>, 'plugin');
        return text;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private record(message: Record<string, unknown>, from: 'host' | 'plugin'): void {
    this.jsonSchemas.check(message, from);
    if (from === 'plugin') this.zodSchemas.check(message);
    else if (typeof message.method === 'string' && 'id' in message) this.zodSchemas.expectAnswer(message.id as number, message.method);
  }

  /** Reads frames until one answers `id`; returns its raw bytes. */
  async answerTo(id: number | null): Promise<string> {
    for (;;) {
      const text = await this.nextFrame();
      if ((JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { id?: unknown }).id === id) return text;
    }
  }

  async handshake(): Promise<void> {
    const initialize = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersions":["1.0"],"host":{"name":"wire-test","version":"0"},"limits":{"maxFrameBytes":8388608,"storageQuotaBytes":4194304,"webhookBodyBytes":1048576}}}';
    this.write(frame(initialize), initialize);
    await this.nextFrame();
    this.write(frame('{"jsonrpc":"2.0","method":"initialized","params":{}}'), '{"jsonrpc":"2.0","method":"initialized","params":{}}');
  }
}

let plugin: WirePlugin | undefined;
afterEach(async () => {
  if (!plugin) return;
  const { jsonSchemas, zodSchemas } = plugin;
  plugin.child.kill();
  await plugin.exit;
  plugin = undefined;
  expect(jsonSchemas.problems).toEqual([]);
  expect(zodSchemas.violations).toEqual([]);
});

describe('flow-minimal on the wire', () => {
  it('runs a whole session byte for byte: handshake, instance lifecycle, shutdown, exit 0', async () => {
    plugin = new WirePlugin();
    // A request before initialize: refused, and nothing else is written first.
    plugin.write('Content-Length: 52\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}', '{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}');
    expect(await plugin.nextFrame()).toBe(frame('{"jsonrpc":"2.0","id":1,"error":{"code":1006,"message":"\\"ping\\" before \\"initialize\\"; send \\"initialize\\" first"}}'));

    // Header names are case-insensitive and Content-Type is allowed (spec §2.2).
    const initialize = '{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersions":["1.3","0.9"],"host":{"name":"wire-test","version":"0"},"limits":{"maxFrameBytes":8388608,"storageQuotaBytes":4194304,"webhookBodyBytes":1048576}}}';
    plugin.write(`content-length: ${Buffer.byteLength(initialize)}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n${initialize}`, initialize);
    expect(await plugin.nextFrame()).toBe(frame(`{"jsonrpc":"2.0","id":2,"result":{"protocolVersion":"1.1","info":${INFO},"capabilities":[]}}`));
    plugin.write(frame('{"jsonrpc":"2.0","method":"initialized","params":{}}'), '{"jsonrpc":"2.0","method":"initialized","params":{}}');

    const create = '{"jsonrpc":"2.0","id":3,"method":"instance/create","params":{"instanceId":"25","user":{"id":1,"name":"admin","admin":true},"webhookBasePath":"/plugin/4/custom/Pabc/"}}';
    const enable = '{"jsonrpc":"2.0","id":4,"method":"instance/enable","params":{"instanceId":"25"}}';
    const disable = '{"jsonrpc":"2.0","id":5,"method":"instance/disable","params":{"instanceId":"25"}}';
    // Three frames in one write, answered in order with one frame each.
    plugin.write(frame(create) + frame(enable) + frame(disable), create, enable, disable);
    expect(await plugin.nextFrame()).toBe(frame('{"jsonrpc":"2.0","id":3,"result":{}}'));
    expect(await plugin.nextFrame()).toBe(frame('{"jsonrpc":"2.0","id":4,"result":{}}'));
    expect(await plugin.nextFrame()).toBe(frame('{"jsonrpc":"2.0","id":5,"result":{}}'));

    // One frame dribbled in byte by byte.
    const info = '{"jsonrpc":"2.0","id":6,"method":"plugin/info","params":{}}';
    const bytes = Buffer.from(frame(info));
    for (let i = 0; i < bytes.length; i++) plugin.write(bytes.subarray(i, i + 1), ...(i === 0 ? [info] : []));
    expect(await plugin.nextFrame()).toBe(frame(`{"jsonrpc":"2.0","id":6,"result":{"info":${INFO},"capabilities":[]}}`));

    const shutdown = '{"jsonrpc":"2.0","id":7,"method":"shutdown","params":{}}';
    plugin.write(frame(shutdown), shutdown);
    expect(await plugin.nextFrame()).toBe(frame('{"jsonrpc":"2.0","id":7,"result":{}}'));
    plugin.write(frame('{"jsonrpc":"2.0","method":"exit","params":{}}'), '{"jsonrpc":"2.0","method":"exit","params":{}}');
    expect(await plugin.exit).toBe(0);
    // Not one byte after the last frame, and nothing logged: nothing went wrong.
    expect(plugin.stdout.length).toBe(plugin.offset);
    expect(plugin.stderr).toBe('');
  });

  it('answers the defined errors and keeps serving through bad input', async () => {
    plugin = new WirePlugin();
    await plugin.handshake();

    const display = '{"jsonrpc":"2.0","id":10,"method":"display/get","params":{"instanceId":"1","location":{"scheme":"http","host":"h","webhookBasePath":"/p/"}}}';
    plugin.write(frame(display), display);
    expect(await plugin.answerTo(10)).toBe(frame('{"jsonrpc":"2.0","id":10,"error":{"code":1003,"message":"minimal plugin is not a displayer (\\"display/get\\")"}}'));

    const unknownMethod = '{"jsonrpc":"2.0","id":11,"method":"instance/rename","params":{}}';
    plugin.write(frame(unknownMethod));
    expect(await plugin.answerTo(11)).toBe(frame('{"jsonrpc":"2.0","id":11,"error":{"code":-32601,"message":"unknown method \\"instance/rename\\""}}'));

    const unknownInstance = '{"jsonrpc":"2.0","id":12,"method":"instance/enable","params":{"instanceId":"404"}}';
    plugin.write(frame(unknownInstance), unknownInstance);
    expect(await plugin.answerTo(12)).toBe(
      frame('{"jsonrpc":"2.0","id":12,"error":{"code":1002,"message":"no instance \\"404\\"; create it with instance/create first","data":{"instanceId":"404"}}}'),
    );

    const wrongParams = '{"jsonrpc":"2.0","id":13,"method":"instance/enable","params":{"instanceId":7}}';
    plugin.write(frame(wrongParams));
    const invalid = await plugin.answerTo(13);
    expect(invalid).toMatch(/^Content-Length: \d+\r\n\r\n\{"jsonrpc":"2\.0","id":13,"error":\{"code":-32602,"message":"invalid params for \\"instance\/enable\\": instanceId: .+","data":\{"issues":\[\{"path":\["instanceId"\]/);

    // Garbage, a header without Content-Length, a body that is not JSON: only the last has an answer.
    const ping = (id: number): string => `{"jsonrpc":"2.0","id":${id},"method":"ping","params":{}}`;
    plugin.write('oops, a stray print\n');
    plugin.write(frame(ping(20)), ping(20));
    expect(await plugin.answerTo(20)).toBe(frame('{"jsonrpc":"2.0","id":20,"result":{}}'));
    plugin.write('X-Nothing: here\r\n\r\n');
    plugin.write(frame(ping(21)), ping(21));
    expect(await plugin.answerTo(21)).toBe(frame('{"jsonrpc":"2.0","id":21,"result":{}}'));
    plugin.write('Content-Length: 7\r\n\r\n{"id":]');
    expect(await plugin.answerTo(null)).toMatch(/^Content-Length: \d+\r\n\r\n\{"jsonrpc":"2\.0","id":null,"error":\{"code":-32700,"message":"Frame body is not valid JSON: .*"\}\}$/);

    // A frame over the default 8 MiB limit is skipped unread and its request answered.
    const huge = `{"jsonrpc":"2.0","id":14,"method":"ping","params":{"pad":"${'x'.repeat(8 * 1024 * 1024)}"}}`;
    plugin.write(frame(huge));
    const tooLarge = JSON.stringify({ jsonrpc: '2.0', id: 14, error: { code: 1010, message: `Frame of ${huge.length} bytes is over the limit of 8388608 bytes; it was skipped`, data: { limitBytes: 8388608, frameBytes: huge.length } } });
    expect(await plugin.answerTo(14)).toBe(frame(tooLarge));

    // Still serving.
    plugin.write(frame(ping(15)), ping(15));
    expect(await plugin.answerTo(15)).toBe(frame('{"jsonrpc":"2.0","id":15,"result":{}}'));

    // Each problem without an answer is one JSON log line on stderr.
    plugin.child.stdin.end();
    expect(await plugin.exit).toBe(1);
    const lines = plugin.stderr.trim().split('\n').map((line) => JSON.parse(line) as { level: string; message: string });
    expect(lines.map((line) => line.level)).toEqual(lines.map(() => 'warn'));
    expect(lines.map((line) => line.message)).toEqual([
      expect.stringMatching(/^bad input from the host: Unexpected bytes where a frame header should start/),
      expect.stringMatching(/^bad input from the host: Invalid frame header: missing Content-Length/),
      expect.stringMatching(/^bad input from the host: Frame body is not valid JSON/),
      expect.stringMatching(/^bad input from the host: Frame of \d+ bytes is over the limit/),
    ]);
  });

  it('refuses a host that speaks only another major version, naming both', async () => {
    plugin = new WirePlugin();
    const initialize = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersions":["2.0"],"host":{"name":"future","version":"9"},"limits":{"maxFrameBytes":8388608,"storageQuotaBytes":4194304,"webhookBodyBytes":1048576}}}';
    plugin.write(frame(initialize), initialize);
    expect(await plugin.nextFrame()).toBe(
      frame(
        '{"jsonrpc":"2.0","id":1,"error":{"code":1005,"message":"no common protocol version: the host speaks 2.0, this plugin speaks 1.1; update the plugin or the server","data":{"hostVersions":["2.0"],"pluginVersions":["1.1"]}}}',
      ),
    );
    plugin.child.stdin.end();
    expect(await plugin.exit).toBe(1);
  });
});
