/**
 * Real database servers for import tests, started from Debian's packages in a temp dir on a
 * free loopback port and removed on stop: PostgreSQL 15 (`initdb` + `pg_ctl`) and MariaDB
 * (`mariadb-install-db` + `mariadbd`). Run as root (CI), the servers run as their system users
 * (`postgres`, `mysql`) through runuser, since both refuse to run as root.
 *
 *   const pg = await startPostgres();   // pg.connection: Gotify-style "host=… port=… user=… dbname=…"
 *   await pg.stop();
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait.js';

const exec = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const isRoot = () => process.getuid?.() === 0;

async function uidOf(user: string): Promise<{ uid: number; gid: number }> {
  const { stdout } = await exec('id', ['-u', user]);
  const { stdout: g } = await exec('id', ['-g', user]);
  return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
}

/** argv run as `user` when we are root, else as ourselves. */
const as = (user: string, argv: string[]): [string, string[]] => (isRoot() ? ['runuser', ['-u', user, '--', ...argv]] : [argv[0]!, argv.slice(1)]);

async function ownedTempDir(user: string, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  if (isRoot()) {
    const { uid, gid } = await uidOf(user);
    await chown(dir, uid, gid);
  }
  await chmod(dir, 0o700);
  return dir;
}

export interface DbServer {
  /** Connection string as Gotify's `database.connection` would hold it. */
  connection: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** A PostgreSQL server that can also be taken down and brought back on the same port and data (outage tests). */
export interface PgServer extends DbServer {
  /** The cluster's data directory. */
  dataDir: string;
  /** `pg_ctl stop -m fast`: connections are cut, new ones refused. */
  down(): Promise<void>;
  /** Starts it again on the same port and data. */
  up(): Promise<void>;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

export const postgresAvailable = (): boolean => existsSync(path.join(PG_BIN, 'initdb'));

/** A throwaway PostgreSQL 15 cluster with a database `gotify` (trust auth on loopback); fsync off unless asked (benches). */
export async function startPostgres(opts: { fsync?: boolean } = {}): Promise<PgServer> {
  const dir = await ownedTempDir('postgres', 'flow-pg-');
  const data = path.join(dir, 'data');
  const port = await freePort();
  const user = isRoot() ? 'postgres' : (process.env.USER ?? 'postgres');
  const pgStart = () =>
    exec(
      ...as('postgres', [path.join(PG_BIN, 'pg_ctl'), '-D', data, '-w', '-t', '60', '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${opts.fsync ? 'on' : 'off'} -c max_connections=300`, 'start']),
      { timeout: 90_000 },
    );
  try {
    await exec(...as('postgres', [path.join(PG_BIN, 'initdb'), '-D', data, '-A', 'trust', '-U', user, '--no-sync']), { timeout: 120_000 });
    await pgStart();
    await exec(...as('postgres', [path.join(PG_BIN, 'psql'), '-h', dir, '-p', String(port), '-U', user, '-d', 'postgres', '-c', 'CREATE DATABASE gotify']), { timeout: 30_000 });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    connection: `host=127.0.0.1 port=${port} user=${user} dbname=gotify sslmode=disable`,
    host: '127.0.0.1',
    port,
    dataDir: data,
    async down() {
      await exec(...as('postgres', [path.join(PG_BIN, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']), { timeout: 60_000 });
    },
    async up() {
      await pgStart();
    },
    async stop() {
      await exec(...as('postgres', [path.join(PG_BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']), { timeout: 60_000 }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const mariadbAvailable = (): boolean => existsSync('/usr/sbin/mariadbd') && existsSync('/usr/bin/mariadb-install-db');

/** A throwaway MariaDB server with a database `gotify`, user root without password on 127.0.0.1. */
export async function startMariadb(): Promise<DbServer> {
  const dir = await ownedTempDir('mysql', 'flow-maria-');
  const data = path.join(dir, 'data');
  const port = await freePort();
  const sock = path.join(dir, 'sock');
  const common = ['--no-defaults'];
  let proc: ChildProcess | undefined;
  try {
    await exec(
      ...as('mysql', ['/usr/bin/mariadb-install-db', ...common, `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db']),
      { timeout: 180_000 },
    );
    const [cmd, args] = as('mysql', ['/usr/sbin/mariadbd', ...common, `--datadir=${data}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${sock}`, `--pid-file=${path.join(dir, 'pid')}`, '--skip-log-bin', '--innodb-flush-log-at-trx-commit=0']);
    proc = spawn(cmd, args, { stdio: 'ignore' });
    const started = proc;
    await waitFor(async () => {
      if (started.exitCode !== null) throw new Error('mariadbd did not start: it exited');
      return exec('/usr/bin/mariadb', ['--no-defaults', `--socket=${sock}`, '-uroot', '-e', 'CREATE DATABASE IF NOT EXISTS gotify']).then(() => true, () => false);
    }, 'mariadbd to accept connections', 60_000);
  } catch (err) {
    proc?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const p = proc;
  return {
    connection: `root@tcp(127.0.0.1:${port})/gotify?charset=utf8mb4&parseTime=True`,
    host: '127.0.0.1',
    port,
    async stop() {
      const exited = new Promise((r) => p.once('exit', r));
      // The server's own pid (runuser may not forward signals).
      const pid = Number((await readFile(path.join(dir, 'pid'), 'utf8').catch(() => '')).trim());
      if (pid > 0) process.kill(pid, 'SIGTERM');
      else p.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (p.exitCode === null) p.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
