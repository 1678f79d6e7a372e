import { createTestHost } from '../testing.js';
import type { Command } from './command.js';

/** Launches a plugin as the server would, prints its `initialize` result, and stops it. */
export const infoCommand: Command = {
  name: 'info',
  summary: 'launch a plugin and print its initialize result (info, capabilities, protocol version)',
  usage: ['Usage: flow-plugin info -- <command> [args...]', '', 'Example: flow-plugin info -- ./flow-echo.mjs'].join('\n'),
  async run(args) {
    const command = args[0] === '--' ? args.slice(1) : args;
    if (command.length === 0) {
      process.stderr.write(`${this.usage}\n`);
      return 2;
    }
    const host = await createTestHost({ command, handshake: false });
    try {
      const result = await host.initialize();
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      for (const violation of host.violations) process.stderr.write(`protocol violation: ${violation}\n`);
      return host.violations.length === 0 ? 0 : 1;
    } catch (error) {
      process.stderr.write(`flow-plugin info: ${error instanceof Error ? error.message : String(error)}\n`);
      for (const line of host.stderr.slice(-20)) process.stderr.write(`  plugin stderr: ${line}\n`);
      return 1;
    } finally {
      await host.close();
    }
  },
};
