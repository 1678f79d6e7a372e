import { networkInterfaces, hostname } from 'node:os';
import type { FlowConfig } from '../config/keys.js';
import type { Logger } from '../log.js';
import type { PgStore } from '../store/pg/pg-store.js';
import type { Store } from '../store/store.js';
import { ALONE, LeaderElection, type LeaderRole } from './leader.js';
import { Leases } from './lease.js';
import { newReplicaIdentity, ReplicaRegistry, type ReplicaIdentity } from './replica.js';

/**
 * This server as one replica of a Flow cluster. Replicas exist only on PostgreSQL
 * (`database.dialect: postgres`): then this replica has a row in the registry, heartbeats, and
 * can take leases. On LevelDB the server is alone: `registry` and `leases` are undefined, no
 * database work is done, and it is the leader and the owner of everything, as before clusters.
 */
export interface Cluster {
  /** This replica: id (new per start) and name (`cluster.name`, default the host name). */
  readonly replica: ReplicaIdentity;
  /** The registry of live replicas; PostgreSQL only. */
  readonly registry: ReplicaRegistry | undefined;
  /** Leases held by this replica; PostgreSQL only. */
  readonly leases: Leases | undefined;
  /** Whether this replica runs the singleton jobs now (cluster/leader.ts); always on LevelDB. */
  readonly leader: LeaderRole;
  /** `cluster.secret`: authenticates calls between replicas (never logged). */
  readonly secret: string;
  /** The server listens: publish the URL other replicas reach it at (`cluster.advertiseurl` or derived). */
  listening(urls: { http: string; https?: string }): Promise<void>;
  /** Leaves the cluster: gives up leases, removes this replica's row. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartClusterOptions {
  store: Store;
  config: FlowConfig;
  log: Logger;
  /** This replica, when it was made before the store opened (startFlow: its sessions carry the id); a new one otherwise. */
  replica?: ReplicaIdentity;
}

/** Joins the cluster on the store's database (PostgreSQL), or stands alone (LevelDB). */
export async function startCluster(opts: StartClusterOptions): Promise<Cluster> {
  const { config, log } = opts;
  const replica = opts.replica ?? newReplicaIdentity(config['cluster.name']);
  const secret = config['cluster.secret'];
  if (opts.store.backend !== 'postgres') {
    return { replica, registry: undefined, leases: undefined, leader: ALONE, secret, listening: async () => undefined, close: async () => undefined };
  }
  const store = opts.store as PgStore;
  const db = store.db;
  const clusterLog = log.child({ component: 'cluster', replica: replica.id });
  let secretWarned = false;
  const registry = new ReplicaRegistry(db, replica, {
    onError: (err) => clusterLog.error({ err }, 'replica heartbeat failed; retrying'),
    onRemoved: (ids) => clusterLog.info({ removed: ids }, `removed ${ids.length} dead replica(s) from the registry`),
    onMembers: (live) => {
      clusterLog.info({ replicas: live }, `${live} replica(s) on this database`);
      if (live > 1 && secret === '' && !secretWarned) {
        secretWarned = true;
        clusterLog.error(
          'several Flow replicas run on this database but cluster.secret is empty: replicas cannot call each other (forwarded plugin calls fail); set the same cluster.secret (16+ characters) on every replica',
        );
      }
    },
  });
  const leases = new Leases(db, replica.id);
  const leader = new LeaderElection(leases, { log: clusterLog });
  await registry.start();
  clusterLog.info({ name: replica.name }, `replica ${replica.name} (${replica.id}) joined the cluster`);
  await leader.start();
  // The leader's jobs besides retention (services/retention.ts follows the same role):
  // purging bulk-deleted messages, and removing the rows of dead replicas.
  store.messages.purger.follow(leader);
  registry.removeDeadWhile(leader);
  let closing: Promise<void> | undefined;
  return {
    replica,
    registry,
    leases,
    leader,
    secret,
    async listening(urls) {
      const url = advertiseUrl(config, urls);
      if (url === undefined) {
        clusterLog.warn('cannot derive the URL other replicas reach this one at (listening on a unix socket): set cluster.advertiseurl');
        return;
      }
      await registry.setAdvertiseUrl(url);
      clusterLog.info({ advertiseUrl: url }, `other replicas reach this one at ${url}`);
    },
    close() {
      closing ??= (async () => {
        // The leader's jobs stop (retention already did, with the app) before the lease is released.
        await store.messages.purger.close();
        await leader.close();
        await leases.releaseAll().catch((err: unknown) => clusterLog.warn({ err }, 'could not release the leases (they expire by themselves)'));
        await registry.close();
      })();
      return closing;
    },
  };
}

/**
 * `cluster.advertiseurl`, else the address the server listens on: HTTPS when it serves it (the
 * plain port may only redirect); a listen address of "all interfaces" becomes this machine's
 * first non-loopback IPv4 address (what another machine can reach), else its host name.
 */
export function advertiseUrl(config: FlowConfig, urls: { http: string; https?: string }): string | undefined {
  const configured = config['cluster.advertiseurl'];
  if (configured !== '') return configured.replace(/\/+$/, '');
  const [url, listenAddr] = urls.https !== undefined ? [urls.https, config['server.ssl.listenaddr']] : [urls.http, config['server.listenaddr']];
  if (url.startsWith('unix:')) return undefined;
  if (listenAddr !== '' && listenAddr !== '0.0.0.0' && listenAddr !== '::') return url;
  const u = new URL(url);
  u.hostname = externalAddress() ?? hostname();
  return u.toString().replace(/\/$/, '');
}

function externalAddress(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
