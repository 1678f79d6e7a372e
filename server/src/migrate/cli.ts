import { existsSync } from 'node:fs';
import path from 'node:path';
import { FlowError } from '../errors.js';
import { Option } from 'commander';
import { runSubcommand, stdio, subcommand, type CliIo } from '../cli/subcommand.js';
import { LevelStore } from '../store/level/level-store.js';
import { PgStore } from '../store/pg/pg-store.js';
import type { Store } from '../store/store.js';
import { copyStore, type CopyCounts } from './copy.js';
import { levelTarget } from './to-leveldb.js';
import { postgresTarget } from './to-postgres.js';

export interface MigrateOptions {
  to: 'postgres' | 'leveldb';
  connection: string;
  datadir: string;
  progress?: (line: string) => void;
}

/**
 * Copies a whole store between the backends: a data dir's LevelDB (`<datadir>/db`, with the server
 * stopped: its lock is taken) into an empty PostgreSQL database, or back into a new `<datadir>/db`.
 * Images stay in `<datadir>/images` either way. Returns what was copied, verified in the target.
 */
export async function migrateStore(o: MigrateOptions): Promise<{ counts: CopyCounts; from: string; to: string }> {
  const levelDir = path.join(path.resolve(o.datadir), 'db');
  let source: Store | undefined;
  try {
    if (o.to === 'postgres') {
      if (!existsSync(path.join(levelDir, 'CURRENT'))) throw new FlowError('FLOW_ERR_BAD_REQUEST', `${levelDir} holds no LevelDB database (check --datadir)`);
      source = await LevelStore.open(levelDir, { purge: { autoStart: false } });
      const target = await postgresTarget(o.connection);
      return { counts: await copyStore(source, target, o.progress), from: levelDir, to: `PostgreSQL at ${target.where}` };
    }
    source = await PgStore.open(o.connection, { purge: { autoStart: false } });
    const target = await levelTarget(o.datadir);
    return { counts: await copyStore(source, target, o.progress), from: 'PostgreSQL', to: target.where };
  } finally {
    await source?.close();
  }
}

const formatCounts = (c: CopyCounts): string =>
  `${c.users} users, ${c.clients} clients, ${c.applications} applications, ${c.messages} messages, ${c.pluginConfs} plugin confs ` +
  `(${c.pluginStorage} with storage, ${c.pluginKv} key-value entries), ${c.pluginPermissions} plugin permissions`;

/**
 * `flow migrate --to postgres|leveldb --connection … [--datadir …]`. Resolves to the exit code:
 * 0 copied and verified, 1 refused or failed (nothing written), 2 bad usage.
 */
export async function runMigrateCli(argv: readonly string[], io: CliIo = stdio, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = subcommand('flow migrate', io)
    .description("copy Flow's data between LevelDB (<datadir>/db) and PostgreSQL; the target must be empty, the counts are verified")
    .addOption(new Option('--to <backend>', 'where the data goes').choices(['postgres', 'leveldb']).makeOptionMandatory())
    .option('--connection <connection>', 'the PostgreSQL database (database.connection)', env.FLOW_DATABASE_CONNECTION ?? env.GOTIFY_DATABASE_CONNECTION)
    .option('--datadir <dir>', 'the data dir whose db/ is the LevelDB side', env.FLOW_DATADIR ?? 'data')
    .allowExcessArguments(false);
  let code = 0;
  program.action(async (o: { to: 'postgres' | 'leveldb'; connection?: string; datadir: string }) => {
    if (!o.connection) {
      io.err('flow migrate: --connection (or FLOW_DATABASE_CONNECTION) names the PostgreSQL database\n');
      code = 2;
      return;
    }
    try {
      const r = await migrateStore({ to: o.to, connection: o.connection, datadir: o.datadir, progress: (line) => io.err(`flow migrate: ${line}\n`) });
      io.out(`copied from ${r.from} to ${r.to} and verified: ${formatCounts(r.counts)}\n`);
    } catch (err) {
      io.err(`flow migrate: ${(err as Error).message}\n`);
      code = 1;
    }
  });
  return runSubcommand(program, argv, () => code);
}
