/**
 * `flow import gotify` from a SQLite database built with Gotify's schema (2.9.1 and 3.0 shapes),
 * then the real server on the imported data dir, used with the tokens and passwords the Gotify
 * users already hold. Bad input: not Gotify, a newer schema, a corrupt file, a non-empty target.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { signEnhancedToken } from '../../server/src/services/enhanced-token.js';
import { gotifyFixture, gotifySchemaSql, writeGotifySqlite, PNG, type GotifyVersion } from '../helpers/gotify-db.js';
import { basic, startTestServer } from '../helpers/server.js';
import { startPluginServer, waitFor } from '../helpers/plugins.js';

const FLOW_BIN = fileURLToPath(new URL('../../server/bin/flow.mjs', import.meta.url));
const ECHO = fileURLToPath(new URL('../../plugins/echo/dist/flow-echo.mjs', import.meta.url));
const run = promisify(execFile);

/** Runs the `flow` bin; resolves with its exit code and output (never rejects on a non-zero exit). */
async function flow(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [FLOW_BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'flow-import-'));
  temps.push(d);
  return d;
}
afterAll(async () => {
  for (const d of temps) await rm(d, { recursive: true, force: true });
});

describe.each(['2.9', '3.0'] as GotifyVersion[])('flow import gotify from a Gotify %s SQLite database', (version) => {
  it('carries users, applications, clients, messages, images and plugin confs; every old token and password works', async () => {
    const dir = await tempDir();
    const fx = gotifyFixture(version);
    const dbFile = path.join(dir, 'gotify', 'data', 'gotify.db');
    await mkdir(path.dirname(dbFile), { recursive: true });
    await writeGotifySqlite(dbFile, version, fx);
    const datadir = path.join(dir, 'flow-data');

    const dry = await flow('import', 'gotify', '--database', dbFile, '--datadir', datadir, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('dry run (nothing written)');
    expect(existsSync(datadir)).toBe(false);

    const res = await flow('import', 'gotify', '--database', dbFile, '--datadir', datadir);
    expect(res.code, res.stderr).toBe(0);
    const sessions = version === '3.0' ? 2 : 2;
    expect(res.stdout).toContain(`3 users, 4 applications (1 images), ${sessions} clients, ${fx.messageIds.admin.length + fx.messageIds.alice.length} messages, 2 plugin confs`);
    expect(res.stdout).toMatch(/image file missing in .*images: imported with the default image \(1\): #2 monitor: gone\.png/);
    expect(res.stdout).toContain('application of a user that no longer exists (its messages are skipped too) (1): #6 orphan');
    expect(res.stdout).toContain('client of a user that no longer exists (1): #4 orphan');
    expect(res.stdout).toContain('message of an application that no longer exists (1)');
    expect(res.stdout).toMatch(/message extras are not a JSON object: imported without extras \(1\): #\d+/);
    if (version === '3.0') {
      expect(res.stdout).toContain('expired session (a Gotify 3 login that timed out): not imported (1): #5 old browser session');
      // bob's link to an OIDC identity is carried (he signs in with OIDC as before): nothing to report.
      expect(res.stdout).not.toMatch(/OIDC|oidc/);
    }
    // Nothing left behind beside the data dir (the temporary build dir was renamed).
    expect(await readdir(dir)).toEqual(['flow-data', 'gotify']);

    const pluginsDir = await tempDir();
    await symlink(ECHO, path.join(pluginsDir, 'echo'));
    const s = await startPluginServer(pluginsDir, {}, datadir);
    try {
      // Passwords: Gotify's $2a$ hashes verify unchanged; admin flags kept.
      const me = await s.api('GET', '/current/user', { auth: basic('alice', 'alice-pw') });
      expect(me.body).toMatchObject({ id: 2, name: 'alice', admin: false });
      expect((await s.api('GET', '/current/user', { auth: basic('bob', 'bob-pw') })).body).toMatchObject({ id: 4, name: 'bob', admin: true });
      expect((await s.api('GET', '/current/user', { auth: basic('alice', 'wrong') })).status).toBe(401);

      // Client tokens as their owners hold them (3.0: alice's is an enhanced token, private form).
      const adminC = fx.held.adminClient;
      const users = await s.api('GET', '/user', { token: adminC });
      expect(users.body.map((u: any) => [u.id, u.name, u.admin])).toEqual([[1, 'admin', true], [2, 'alice', false], [4, 'bob', true]]);
      expect((await s.api('GET', '/current/user', { token: fx.held.aliceClient })).body.name).toBe('alice');
      if (version === '3.0') {
        const signed = signEnhancedToken(fx.held.aliceClient, Math.floor(Date.now() / 1000));
        expect((await s.api('GET', '/current/user', { token: signed })).body.name).toBe('alice');
        // The stored public form is not a credential, and the expired session was not imported.
        expect((await s.api('GET', '/current/user', { token: fx.rows.clients![1]!.token as string })).status).toBe(401);
        expect((await s.api('GET', '/current/user', { token: fx.held.expiredSession })).status).toBe(401);
        // Gotify 3's users.oidc_id is kept: an OIDC login of that identity finds bob (test/e2e/oidc.test.ts).
        expect(s.flow.app.services.users.getByOidcId(fx.rows.users![2]!.oidc_id as string)?.name).toBe('bob');
      }

      // Applications: ids, tokens, names, descriptions, priorities, lastUsed, sort order, images.
      const apps = (await s.api('GET', '/application', { token: adminC })).body;
      expect(apps.map((a: any) => a.name)).toEqual(['monitor', 'backup', 'echo']);
      const backup = apps.find((a: any) => a.id === 1);
      expect(backup).toMatchObject({
        token: 'AbackupToken.1x', description: 'nightly backup', defaultPriority: 4, internal: false,
        image: 'image/img-backup.png', lastUsed: '2025-06-01T08:30:00.500Z', sortKey: 'a1',
      });
      expect(apps.find((a: any) => a.id === 2)).toMatchObject({ image: 'static/defaultapp.png', lastUsed: null });
      expect(apps.find((a: any) => a.id === 5)).toMatchObject({ internal: true });
      const img = await fetch(`${s.url}/image/img-backup.png`);
      expect(img.status).toBe(200);
      expect(Buffer.from(await img.arrayBuffer())).toEqual(PNG);
      const clients = (await s.api('GET', '/client', { token: adminC })).body;
      expect(clients).toEqual([expect.objectContaining({ id: 1, name: 'admin phone', token: 'CadminPhone.123' })]);

      // Messages: ids, newest first, paging with `since` for a client that had seen some.
      const all = fx.messageIds.admin;
      const page1 = (await s.api('GET', '/message?limit=50', { token: adminC })).body;
      expect(page1.messages.map((m: any) => m.id)).toEqual(all.slice(0, 50));
      expect(page1.paging).toMatchObject({ size: 50, since: all[49], limit: 50 });
      const page2 = (await s.api('GET', `/message?limit=50&since=${all[49]}`, { token: adminC })).body;
      expect(page2.messages.map((m: any) => m.id)).toEqual(all.slice(50, 100));
      const first = page1.messages.find((m: any) => m.message === 'message 0') ?? (await s.api('GET', `/message?limit=200&since=${all[150]}`, { token: adminC })).body.messages.find((m: any) => m.message === 'message 0');
      expect(first).toEqual({
        id: 1, appid: 1, message: 'message 0', title: '', priority: 0,
        extras: { 'client::display': { contentType: 'text/markdown' }, n: 0 }, date: '2025-01-01T00:00:00.000Z',
      });
      const broken = page1.messages[0];
      expect(broken).toMatchObject({ message: 'broken extras', title: 't', priority: 1 });
      expect(broken.extras).toBeUndefined();
      const alicePage = (await s.api('GET', '/message?limit=200', { auth: basic('alice', 'alice-pw') })).body;
      expect(alicePage.messages.map((m: any) => m.id)).toEqual(fx.messageIds.alice);

      // Sending with the old application tokens; new ids continue after the imported ones.
      const stream = await s.openStream(adminC);
      const sent = await s.api('POST', '/message', { token: fx.held.backupApp, json: { message: 'after the move' } });
      expect(sent.status).toBe(200);
      // Above every imported id (the store reserves ids in blocks, so a restart may skip some).
      expect(sent.body.id).toBeGreaterThan(Math.max(...all, ...fx.messageIds.alice));
      expect(sent.body.title).toBe('backup');
      expect(sent.body.priority).toBe(4);
      expect((await stream.next()).id).toBe(sent.body.id);
      const aliceSent = await s.api('POST', '/message', { token: fx.held.aliceApp, json: { message: 'hers' } });
      expect(aliceSent.body).toMatchObject({ appid: 3, title: 'alice app', priority: 7 });

      // Plugin confs by module path: same id, token (webhook URL), enabled state, config and storage.
      const [echo] = await waitFor(async () => {
        const list = (await s.api('GET', '/plugin', { token: adminC })).body;
        return Array.isArray(list) && list[0]?.status === 'running' ? list : undefined;
      }, 'the echo plugin running');
      expect(echo).toMatchObject({ id: 1, token: 'PechoAdminToken1234567x', modulePath: 'github.com/flow/plugins/echo', enabled: true });
      expect((await s.api('GET', '/plugin/1/config', { token: adminC })).text).toBe('magic_string: carried from gotify\n');
      const hook = await fetch(`${s.url}/plugin/1/custom/PechoAdminToken1234567x/echo`);
      expect(await hook.text()).toBe('carried from gotify');
      const fromPlugin = await stream.next();
      expect(fromPlugin).toMatchObject({ appid: 5, message: 'echo server received a hello message 42 times' });
      stream.close();
      const alicePlugins = (await s.api('GET', '/plugin', { token: fx.held.aliceClient })).body;
      expect(alicePlugins).toEqual([expect.objectContaining({ id: 2, token: 'PechoAliceToken12345678', enabled: false })]);

      // New records get fresh ids after the imported ones.
      const c = await s.createClient('new');
      expect(c.id).toBeGreaterThan(version === '3.0' ? 5 : 4);
    } finally {
      await s.close();
    }
  }, 240_000);
});

describe('flow import gotify refuses bad input and writes nothing', () => {
  it('a database that is not Gotify names the missing tables; a newer schema lists the unknown columns', async () => {
    const dir = await tempDir();
    const other = path.join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE users (id integer primary key, name text, pass blob, admin numeric); CREATE TABLE notes (id integer)');
    db.close();
    const r1 = await flow('import', 'gotify', '--database', other, '--datadir', path.join(dir, 'out'));
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain('not a Gotify database: missing tables applications, clients, messages, plugin_confs');
    expect(existsSync(path.join(dir, 'out'))).toBe(false);

    const newer = path.join(dir, 'newer.db');
    const db2 = new Database(newer);
    for (const sql of gotifySchemaSql('sqlite3', '3.0')) db2.exec(sql);
    db2.exec('ALTER TABLE messages ADD COLUMN expires_at datetime; ALTER TABLE users ADD COLUMN totp_secret text');
    db2.close();
    const r2 = await flow('import', 'gotify', '--database', newer, '--datadir', path.join(dir, 'out'));
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('unknown columns messages.expires_at, users.totp_secret');
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  }, 120_000);

  it('a corrupt SQLite file, a missing file, a non-empty target and bad flags', async () => {
    const dir = await tempDir();
    const corrupt = path.join(dir, 'corrupt.db');
    await writeFile(corrupt, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 0x5a)]));
    const r1 = await flow('import', 'gotify', '--database', corrupt, '--datadir', path.join(dir, 'out'));
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/is not a readable SQLite database: .*(malformed|not a database)/);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);

    const r2 = await flow('import', 'gotify', '--database', path.join(dir, 'nope.db'), '--datadir', path.join(dir, 'out'));
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('does not exist');

    const fx = gotifyFixture('3.0', 5);
    const good = path.join(dir, 'g', 'gotify.db');
    await mkdir(path.dirname(good));
    await writeGotifySqlite(good, '3.0', fx);
    const used = await startTestServer();
    try {
      const r3 = await flow('import', 'gotify', '--database', good, '--datadir', used.dataDir);
      expect(r3.code).toBe(1);
      expect(r3.stderr).toContain('is not empty');
    } finally {
      await used.close();
    }
    const r4 = await flow('import', 'gotify', '--database', good, '--dialect', 'oracle');
    expect(r4.code).toBe(2);
    expect(r4.stderr).toContain("Allowed choices are sqlite3, mysql, postgres");
    // An empty existing directory is a fine target.
    const empty = path.join(dir, 'empty');
    await mkdir(empty);
    const r5 = await flow('import', 'gotify', '--database', good, '--datadir', empty);
    expect(r5.code, r5.stderr).toBe(0);
    expect((await readdir(empty)).sort()).toEqual(['db', 'images']);
  }, 180_000);

  it('an unreachable PostgreSQL or MySQL server: the error, nothing written', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    // Port 1 on loopback: nothing listens there.
    const pg = await flow('import', 'gotify', '--database', 'host=127.0.0.1 port=1 user=gotify dbname=gotify password=secret', '--datadir', out);
    expect(pg.code).toBe(1);
    expect(pg.stderr).toContain('cannot connect to PostgreSQL at 127.0.0.1:1/gotify: connect ECONNREFUSED');
    expect(pg.stderr).not.toContain('secret');
    const my = await flow('import', 'gotify', '--database', 'gotify:secret@tcp(127.0.0.1:1)/gotify?charset=utf8&parseTime=True&loc=Local', '--datadir', out);
    expect(my.code).toBe(1);
    expect(my.stderr).toContain('cannot connect to MySQL at 127.0.0.1:1/gotify');
    expect(my.stderr).not.toContain('secret');
    expect(existsSync(out)).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  }, 120_000);
});
