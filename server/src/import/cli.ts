import { Option } from 'commander';
import { runSubcommand, stdio, subcommand, type CliIo } from '../cli/subcommand.js';
import { importGotify, type ImportReport } from './gotify/import.js';
import type { Dialect } from './gotify/source.js';

export function formatReport(r: ImportReport): string {
  const c = r.counts;
  const lines = [
    `${r.dryRun ? 'dry run (nothing written): would import' : 'imported'} from ${r.source}${r.dryRun ? '' : ` into ${r.target}`}:`,
    `  ${c.users} users, ${c.applications} applications (${c.images} images), ${c.clients} clients, ${c.messages} messages, ${c.pluginConfs} plugin confs`,
  ];
  if (r.notCarried.length === 0) {
    lines.push('everything was carried over.');
  } else {
    lines.push('not carried:');
    for (const g of r.notCarried) {
      const more = g.count > g.examples.length ? `, … ${g.count - g.examples.length} more` : '';
      lines.push(`  - ${g.reason} (${g.count}): ${g.examples.join(', ')}${more}`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * `flow import gotify --database … [--dialect …] [--images …] [--datadir …] [--dry-run]`.
 * Resolves to the exit code: 0 imported, 1 refused or failed (nothing written), 2 bad usage.
 */
export async function runImportCli(argv: readonly string[], io: CliIo = stdio, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = subcommand('flow import', io)
    .description('import data from another notification server into a new Flow data dir');
  let code = 0;
  program
    .command('gotify')
    .description("import a Gotify 2.x/3.x database: users, applications, clients (every token keeps working), messages, plugin confs, images")
    .requiredOption('--database <file|connection>', "Gotify's SQLite file, or its MySQL / PostgreSQL connection string (Gotify's database.connection)")
    .addOption(new Option('--dialect <dialect>', "Gotify's database.dialect (default: guessed from --database)").choices(['sqlite3', 'mysql', 'postgres']))
    .option('--images <dir>', "Gotify's uploaded images folder (default for SQLite: images/ beside the database file)")
    .option('--datadir <dir>', 'the Flow data dir to create; must be new or empty', env.FLOW_DATADIR ?? 'data')
    .option('--dry-run', 'read and check everything, write nothing')
    .action(async (o: { database: string; dialect?: Dialect; images?: string; datadir: string; dryRun?: boolean }) => {
      try {
        const report = await importGotify({
          database: o.database,
          dialect: o.dialect,
          images: o.images,
          datadir: o.datadir,
          dryRun: o.dryRun,
          progress: (line) => io.err(`flow import: ${line}\n`),
        });
        io.out(formatReport(report));
      } catch (err) {
        io.err(`flow import gotify: ${(err as Error).message}\n`);
        code = 1;
      }
    });
  return runSubcommand(program, argv, () => code);
}
