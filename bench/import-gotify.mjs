#!/usr/bin/env node
// `flow import gotify` of a large Gotify database (issue 20). Not a test: prints numbers.
//
//   node bench/import-gotify.mjs            (after `npm run build`)
//   BENCH_MESSAGES=200000 node bench/import-gotify.mjs
//
// 1. Builds a Gotify 3.0 SQLite database (GORM's tables) with 3 users, 30 applications, 30 clients
//    and BENCH_MESSAGES messages (default 1,000,000; a quarter with extras), ~100-byte texts.
// 2. Runs the `flow` bin twice under /usr/bin/time: `--dry-run` (read and convert every row,
//    write nothing) and the real import (plus LevelDB writes, then the rename), and reports
//    wall time, CPU time (user + sys: meaningful on a busy machine), messages per second and peak RSS, side by side.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const N = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const FLOW = fileURLToPath(new URL('../server/bin/flow.mjs', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'flow-bench-import-'));
try {
  const file = path.join(dir, 'gotify.db');
  const db = new Database(file);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec(`
    CREATE TABLE users (id integer PRIMARY KEY AUTOINCREMENT, name varchar(180), pass blob, admin numeric, created_at datetime, oidc_id text);
    CREATE TABLE applications (id integer PRIMARY KEY AUTOINCREMENT, token varchar(180), user_id integer, name text, description text, internal numeric,
      image text, default_priority integer, created_at datetime, last_used datetime, sort_key bytes);
    CREATE TABLE messages (id integer PRIMARY KEY AUTOINCREMENT, application_id integer, message text, title text, priority integer, extras blob, date datetime);
    CREATE TABLE clients (id integer PRIMARY KEY AUTOINCREMENT, token varchar(180), user_id integer, name text, created_at datetime, last_used datetime,
      elevated_until datetime, expires_after_inactivity_seconds integer NOT NULL DEFAULT 0, expires_at datetime);
    CREATE TABLE plugin_confs (id integer PRIMARY KEY AUTOINCREMENT, user_id integer, module_path text, token varchar(180), application_id integer,
      enabled numeric, created_at datetime, config blob, storage blob);`);
  const t0 = Date.now();
  const hash = Buffer.from('$2a$04$Ekxd6Qda52OM7Oe73V/YSOxxonGZ5iELugyxQgG3pQiDRTnHwpnKW');
  db.transaction(() => {
    for (let u = 1; u <= 3; u++) db.prepare('INSERT INTO users (id, name, pass, admin) VALUES (?, ?, ?, ?)').run(u, 'user' + u, hash, u === 1 ? 1 : 0);
    for (let a = 1; a <= 30; a++) {
      db.prepare('INSERT INTO applications (id, token, user_id, name, description, internal, image, default_priority, sort_key) VALUES (?,?,?,?,?,?,?,?,?)')
        .run(a, 'A' + String(a).padStart(14, '0'), ((a - 1) % 3) + 1, 'app ' + a, 'bench', 0, '', 4, Buffer.from('a' + String(a).padStart(2, '0')));
      db.prepare('INSERT INTO clients (id, token, user_id, name) VALUES (?,?,?,?)').run(a, 'C' + String(a).padStart(14, '0'), ((a - 1) % 3) + 1, 'client ' + a);
    }
    const ins = db.prepare('INSERT INTO messages (id, application_id, message, title, priority, extras, date) VALUES (?,?,?,?,?,?,?)');
    const extras = Buffer.from('{"client::display":{"contentType":"text/markdown"}}');
    const base = Date.UTC(2025, 0, 1);
    for (let i = 1; i <= N; i++) {
      const date = new Date(base + i * 1000).toISOString().replace('T', ' ').replace('Z', '+00:00');
      ins.run(i, (i % 30) + 1, `backup job ${i} finished in ${i % 97} s, ${i % 13} files changed, nothing to worry about here`, 'job ' + (i % 50), i % 10, i % 4 === 0 ? extras : null, date);
    }
  })();
  db.close();
  console.log(`source: ${N} messages in a Gotify SQLite database (built in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const rows = [];
  for (const [label, args] of [
    ['dry run (read + convert)', ['--datadir', path.join(dir, 'dry'), '--dry-run']],
    ['import (read + convert + write)', ['--datadir', path.join(dir, 'data')]],
  ]) {
    const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M %U %S', process.execPath, FLOW, 'import', 'gotify', '--database', file, ...args], { encoding: 'utf8' });
    const m = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
    if (r.status !== 0 || !m) {
      console.error(r.stdout, r.stderr);
      process.exit(1);
    }
    if (!r.stdout.includes(`${N} messages`)) {
      console.error('unexpected report:', r.stdout);
      process.exit(1);
    }
    const seconds = Number(m[1]);
    const cpu = Number(m[3]) + Number(m[4]);
    rows.push({ what: label, 'wall s': seconds.toFixed(1), 'CPU s': cpu.toFixed(1), 'messages/s (wall)': Math.round(N / seconds), 'peak RSS MB': Math.round(Number(m[2]) / 1024) });
  }
  console.table(rows);
  console.log(`import ÷ dry run: wall ${(Number(rows[1]['wall s']) / Number(rows[0]['wall s'])).toFixed(2)}, CPU ${(Number(rows[1]['CPU s']) / Number(rows[0]['CPU s'])).toFixed(2)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
