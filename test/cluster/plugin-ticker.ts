/**
 * The cluster-ticker fixture (test/fixtures/plugins/cluster-ticker) seen from a cluster test:
 * its plugins folder, the admin's instance of it, where its lease is, and its ticks.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { linkFixture } from '../helpers/plugins.js';
import { basic } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import type { Replica, ReplicaSet } from './replicas.js';

export const TICKER = 'github.com/flow/test/cluster-ticker';
export const ADMIN = basic('admin', 'admin');

/** A plugins folder holding the ticker (or nothing). */
export async function tickerDir(withTicker = true): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flow-cluster-plugins-'));
  if (withTicker) await linkFixture(dir, 'cluster-ticker');
  return dir;
}

/** The admin's ticker conf (GET /plugin on `r`), once it exists. */
export function tickerConf(r: Replica): Promise<{ id: number; token: string; enabled: boolean }> {
  return waitFor(async () => {
    const res = await r.api('GET', '/plugin', { auth: ADMIN });
    return res.status === 200 && (res.body as any[]).find((p) => p.modulePath === TICKER);
  }, `${r.name}: the admin's ticker instance`, 60_000);
}

/** The live holder (replica id) of the instance's lease, or undefined. */
export async function holderOf(c: ReplicaSet, confId: number): Promise<string | undefined> {
  const rows = await c.sql<{ holder: string }>("SELECT holder FROM leases WHERE name = $1 AND expires_at > now()", [`plugin-instance:${confId}`]);
  return rows[0]?.holder;
}

/** The replica holding the instance, once one does (and, with `not`, once it is another than `not`). */
export async function ownerOf(c: ReplicaSet, confId: number, not?: Replica): Promise<Replica> {
  const notId = not && (await not.id());
  const ids = new Map<string, Replica>();
  for (const r of c.replicas) if (r.running) ids.set(await r.id(), r);
  return waitFor(async () => {
    const holder = await holderOf(c, confId);
    return holder !== undefined && holder !== notId && ids.get(holder);
  }, `a live replica${not ? ` other than ${not.name}` : ''} to hold instance ${confId}`, 60_000);
}

export interface Tick {
  id: number;
  seq: number;
  pid: number;
}

/** Every tick message stored so far, by message id (read through `r`). */
export async function ticks(r: Replica): Promise<Tick[]> {
  const res = await r.api('GET', '/message?limit=200', { auth: ADMIN });
  if (res.status !== 200) throw new Error(`GET /message on ${r.name}: ${res.status} ${res.text}`);
  const out: Tick[] = [];
  for (const m of (res.body as any).messages) {
    const match = /^tick (\d+) (\d+)$/.exec(m.message);
    if (match) out.push({ id: m.id, seq: Number(match[1]), pid: Number(match[2]) });
  }
  return out.sort((a, b) => a.id - b.id);
}

/** Waits until at least `n` more ticks than `after` exist, optionally from another pid than `notPid`. */
export function moreTicks(r: Replica, after: number, n: number, notPid?: number): Promise<Tick[]> {
  return waitFor(async () => {
    const all = await ticks(r);
    const fresh = all.filter((t) => t.id > after && t.pid !== notPid);
    return fresh.length >= n && all;
  }, `${n} more ticks${notPid ? ` from a process other than ${notPid}` : ''}`, 60_000);
}

/**
 * The one-active-instance invariant over the ticks: each process's ticks form one unbroken run
 * (once another process ticked, an earlier one never ticks again) and sequence numbers only grow.
 */
export function assertOneAtATime(all: Tick[]): void {
  const runs: number[] = [];
  for (const t of all) if (runs[runs.length - 1] !== t.pid) runs.push(t.pid);
  if (new Set(runs).size !== runs.length) throw new Error(`ticks of one instance interleave between processes: ${runs.join(' → ')}`);
  for (let i = 1; i < all.length; i++) {
    if (all[i]!.seq <= all[i - 1]!.seq) throw new Error(`tick sequence went back or repeated: ${all[i - 1]!.seq} then ${all[i]!.seq}`);
  }
}

/** The webhook of the instance on replica `r` (`GET` reads, `POST` stores a note). */
export async function hook(r: Replica, conf: { id: number; token: string }, method = 'GET', body?: string, headers: Record<string, string> = {}) {
  return r.api(method, `/plugin/${conf.id}/custom/${conf.token}/who?x=1`, { body, headers });
}
