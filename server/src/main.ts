#!/usr/bin/env node
import { CommanderError } from 'commander';
import { runBackupCommand } from './cli/backup.js';
import { loadConfig } from './config/load.js';
import { FlowError } from './errors.js';
import { startFlow } from './flow.js';
import { FLOW_VERSION } from './version.js';

/**
 * The `flow` bin. Exit codes: 0 after a clean stop (SIGINT/SIGTERM), 2 for an invalid
 * configuration or command line (nothing written), 1 for any other startup failure
 * (e.g. "data dir is in use").
 */
async function main(): Promise<void> {
  const sub = process.argv[2];
  if (sub === 'import') {
    // `flow import gotify …`: a one-shot command that builds a data dir; loaded only when used.
    const { runImportCli } = await import('./import/cli.js');
    process.exit(await runImportCli(process.argv.slice(3)));
  }
  if (sub === 'migrate') {
    // `flow migrate --to postgres|leveldb …`: copies the store between backends; loaded only when used.
    const { runMigrateCli } = await import('./migrate/cli.js');
    process.exit(await runMigrateCli(process.argv.slice(3)));
  }
  if (sub === 'backup' || sub === 'restore') process.exit(await runBackupCommand(process.argv.slice(2), process.env));
  let loaded;
  try {
    loaded = loadConfig({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), version: FLOW_VERSION });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander.
      process.exit(err.exitCode === 0 ? 0 : 2);
    }
    if (err instanceof FlowError && err.code === 'FLOW_ERR_CONFIG_INVALID') {
      process.stderr.write(`flow: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  let flow;
  try {
    flow = await startFlow({ config: loaded.config });
  } catch (err) {
    process.stderr.write(`flow: ${(err as Error).message}\n`);
    // A bad certificate, a port in use or an unreachable database is fixed in the config (or its
    // surroundings), like an invalid value: 2.
    process.exit(err instanceof FlowError && (err.code === 'FLOW_ERR_CONFIG_INVALID' || err.code === 'FLOW_ERR_STORE_UNAVAILABLE') ? 2 : 1);
  }
  if (loaded.configFile) flow.log.info({ file: loaded.configFile }, 'loaded config file');
  if (loaded.ignored.length > 0) flow.log.warn({ ignored: loaded.ignored }, `ignored settings Flow does not support: ${loaded.ignored.join('; ')}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    flow.log.info({ signal }, 'stopping');
    flow.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`flow: error while stopping: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`flow: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
