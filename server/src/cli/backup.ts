import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { restoreBackup, verifyBackup } from '../backup/restore.js';

/**
 * `flow backup <file>` and `flow restore <file> --datadir <dir>`. Exit codes: 0 done, 1 failed
 * (server unreachable, refused, bad archive), 2 usage.
 *
 * backup asks the running server for its archive (GET /admin/backup) as an admin: a client
 * token of an admin in FLOW_BACKUP_TOKEN, or FLOW_BACKUP_USER (default admin) and
 * FLOW_BACKUP_PASSWORD (environment, so no secret shows in `ps`). The file appears only once the
 * archive is complete; until then it is `<file>.partial`.
 */
export async function runBackupCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [cmd, ...rest] = argv;
  const program = new Command(`flow ${cmd}`).exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
  if (cmd === 'backup') {
    program
      .description("write a consistent backup of a running server's data (database, images, plugin data) to <file>")
      .argument('<file>', 'archive to write (refused if it exists)')
      .option('--url <url>', 'the server', env.FLOW_BACKUP_URL ?? `http://127.0.0.1:${env.FLOW_SERVER_PORT ?? env.GOTIFY_SERVER_PORT ?? 8080}`)
      .addHelpText('after', '\nAuthentication (environment): FLOW_BACKUP_TOKEN (a client token of an admin) or FLOW_BACKUP_USER + FLOW_BACKUP_PASSWORD.');
  } else {
    program
      .description('restore a backup into an empty data folder, then start flow with --datadir <dir>')
      .argument('<file>', 'archive written by flow backup')
      .requiredOption('--datadir <dir>', 'empty or new folder to restore into');
  }
  try {
    program.parse(rest, { from: 'user' });
  } catch (err) {
    return (err as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const [file] = program.args as [string];
  const opts = program.opts<{ url?: string; datadir?: string }>();
  try {
    if (cmd === 'backup') await backup(path.resolve(file), opts.url!, env);
    else {
      const r = await restoreBackup(path.resolve(file), path.resolve(opts.datadir!));
      process.stdout.write(`restored ${r.entries} database entries and ${r.files} files (backup of Flow ${r.header.flow}, ${r.header.createdAt}) into ${path.resolve(opts.datadir!)}\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`flow ${cmd}: ${(err as Error).message}\n`);
    return 1;
  }
}

async function backup(file: string, url: string, env: NodeJS.ProcessEnv): Promise<void> {
  if (await stat(file).catch(() => undefined)) throw new Error(`${file} exists: choose a new file name`);
  const headers: Record<string, string> = {};
  if (env.FLOW_BACKUP_TOKEN) headers['X-Gotify-Key'] = env.FLOW_BACKUP_TOKEN;
  else if (env.FLOW_BACKUP_PASSWORD !== undefined) {
    headers.Authorization = 'Basic ' + Buffer.from(`${env.FLOW_BACKUP_USER ?? 'admin'}:${env.FLOW_BACKUP_PASSWORD}`).toString('base64');
  } else throw new Error('set FLOW_BACKUP_TOKEN (a client token of an admin) or FLOW_BACKUP_USER and FLOW_BACKUP_PASSWORD');
  let res: Response;
  try {
    // Relative, so a server under a sub-path (https://example.com/flow/) works.
    res = await fetch(new URL('admin/backup', url.endsWith('/') ? url : url + '/'), { headers });
  } catch (err) {
    throw new Error(`cannot reach the server at ${url}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`);
  }
  if (res.status !== 200 || !res.body) {
    const text = await res.text().catch(() => '');
    throw new Error(`the server at ${url} answered ${res.status}: ${text.slice(0, 200)}`);
  }
  const partial = file + '.partial';
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(partial, { flags: 'wx' }));
    // The whole archive is checked before it gets its name: a connection cut mid-way (server
    // stopped, proxy timeout) leaves no file that looks like a backup.
    await verifyBackup(partial);
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  process.stdout.write(`wrote ${file}\n`);
}
