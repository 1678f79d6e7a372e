import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createApp, type FlowApp } from './app.js';
import type { FlowConfig } from './config/keys.js';
import { resolveConfig } from './config/load.js';
import { settlesWithin } from './lib/deadline.js';
import { createLogger, type Logger } from './log.js';
import { listen, UNIX_PREFIX } from './serve/listen.js';
import { redirectToHttps } from './serve/redirect.js';
import { loadCertPair, watchCertPair } from './serve/tls.js';
import { DefaultPasswordCheck } from './services/default-password.js';
import { openStore } from './store/open.js';
import { startCluster, type Cluster } from './cluster/cluster.js';
import { newReplicaIdentity } from './cluster/replica.js';
import { removeStaleUploads } from './services/application.js';
import { FLOW_VERSION } from './version.js';

export type { FlowConfig } from './config/keys.js';
export type { FlowApp } from './app.js';
export { FlowError, HttpError } from './errors.js';
export { createLogger, type Logger, type LoggerOptions } from './log.js';

export interface StartOptions {
  /**
   * Config values by dotted key, over the defaults (startFlow reads no config.yml or env; the
   * `flow` bin does that and passes the result here). Tests use
   * `{ 'server.listenaddr': '127.0.0.1', 'server.port': 0, datadir: tmp, passstrength: 4 }`.
   */
  config?: Partial<FlowConfig>;
  /** Silence all logging (tests). Ignored when `logger` is given. */
  quiet?: boolean;
  /** Root logger to use instead of a new pino logger on stdout. */
  logger?: Logger;
  /** Base for relative datadir/pluginsdir; default process.cwd(). */
  cwd?: string;
  /**
   * Internal, for tests: period of refreshing lastUsed of clients with an open /stream.
   * Default 5 minutes, as Gotify; not a config key because only tests need another value.
   */
  streamLastUsedPeriodMs?: number;
  /** Internal, for tests: how far the stream process may fall behind before it is restarted (default 16 Mi characters). */
  streamMaxBacklogChars?: number;
  /** Internal, for tests: milliseconds since the epoch for message dates and retention (default Date.now). */
  clock?: () => number;
}

export interface FlowHandle {
  /** `http://host:port`, with 127.0.0.1 when listening on all addresses; `unix:<path>` on a unix socket (then `port` is the configured one). */
  url: string;
  port: number;
  /** `https://host:port` and its port when `server.ssl.enabled`. */
  httpsUrl?: string;
  httpsPort?: number;
  config: FlowConfig;
  dirs: { data: string; images: string; plugins: string };
  /** Services, store, event bus and stream hub of the running server. */
  app: FlowApp;
  log: Logger;
  /** Stops accepting connections, closes streams and open connections, then the database. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts a Flow server:
 * 1. resolve config (invalid → FlowError FLOW_ERR_CONFIG_INVALID, nothing written);
 * 2. create <datadir>, <datadir>/images and the plugins folder;
 * 3. open LevelDB at <datadir>/db (in use → FLOW_ERR_STORE_LOCKED "data dir is in use");
 * 4. create the default admin on an empty database;
 * 5. build the app, start the plugins (waiting at most `plugins.startwaitms` for them), listen,
 *    then enable the instances of the plugins that are up (the others enable theirs once up).
 */
export async function startFlow(options: StartOptions = {}): Promise<FlowHandle> {
  const { config } = resolveConfig({ overrides: options.config });
  const log = options.logger ?? createLogger({ level: options.quiet ? 'silent' : config['log.level'], format: config['log.format'] });
  const cwd = options.cwd ?? process.cwd();
  const data = path.resolve(cwd, config.datadir);
  // Checked before anything is written: a bad certificate is a config error (exit 2).
  const tlsFiles = { certfile: path.resolve(cwd, config['server.ssl.certfile']), certkey: path.resolve(cwd, config['server.ssl.certkey']) };
  if (config['server.ssl.certfile'] === '') tlsFiles.certfile = '';
  if (config['server.ssl.certkey'] === '') tlsFiles.certkey = '';
  const certPair = config['server.ssl.enabled'] ? await loadCertPair(tlsFiles) : undefined;
  const dirs = {
    data,
    images: config.uploadedimagesdir ? path.resolve(cwd, config.uploadedimagesdir) : path.join(data, 'images'),
    plugins: config.pluginsdir ? path.resolve(cwd, config.pluginsdir) : path.join(data, 'plugins'),
  };
  await mkdir(dirs.images, { recursive: true });
  await mkdir(dirs.plugins, { recursive: true });
  await removeStaleUploads(dirs.images);

  const dialect = config['database.dialect'];
  if (dialect === 'sqlite3' || dialect === 'mysql') {
    log.warn(`database.dialect ${dialect} is Gotify's: Flow keeps its data in LevelDB (<datadir>/db) or PostgreSQL (database.dialect: postgres); bring a Gotify database over with flow import gotify`);
  }
  const postgres = dialect === 'postgres';
  // This replica (its id is new at every start): known before the store opens, because its
  // PostgreSQL sessions carry the id, so other replicas tell this run's changes from their own.
  const replica = newReplicaIdentity(config['cluster.name']);
  const store = await openStore({
    replicaId: replica.id,
    dialect,
    connection: config['database.connection'],
    dataDir: data,
    onPurgeError: (err) => log.error({ err }, 'purging deleted messages failed; retrying'),
    onHealth: (healthy, err) => {
      if (postgres) {
        if (healthy) log.warn('the PostgreSQL database answers again: requests are served');
        else log.error({ err }, 'the PostgreSQL database is unreachable: requests that need it answer 503 and /health is red while reconnecting');
      } else if (healthy) log.warn('the database was reopened and verified: writes are accepted again');
      else log.error({ err }, 'a database write failed (disk full? I/O error?): writes answer 503 and /health is red until the database is reopened');
    },
  });
  let cluster: Cluster | undefined;
  let app: FlowApp | undefined;
  let server: Server | undefined;
  let httpsServer: ReturnType<typeof createHttpsServer> | undefined;
  let certWatch: { close(): void } | undefined;
  // Tracked from the first connection (plugins may call the API while being enabled), so
  // close() can cut connections that are still busy.
  const sockets = new Set<Socket>();
  try {
    // With PostgreSQL: this replica's row in the registry before anything may take a lease.
    cluster = await startCluster({ store, config, log, replica });
    app = createApp({ config, store, cluster, log, dirs, streamLastUsedPeriodMs: options.streamLastUsedPeriodMs, streamMaxBacklogChars: options.streamMaxBacklogChars, clock: options.clock });
    await app.replicaFeed?.start();
    await app.services.pluginPermissions.load();
    const created = await app.services.users.ensureDefaultUser(config['defaultuser.name'], config['defaultuser.pass']);
    if (created) log.info({ user: created.name }, 'created the default admin user');

    // Plugin instances are created and configured before the server listens, but a plugin
    // that hangs in its handshake or bring-up must not hold the server: wait at most
    // plugins.startwaitms, then listen; the rest come up in the background and are enabled as
    // they come up (PluginInstances.listening). Sequenced here and in the host only, so the
    // order "create, configure, listen, enable" is visible in one place.
    let waited = false;
    const pluginsStarted = app.services.plugins.start();
    // A failure within the wait fails startFlow as it always did; one after it is only logged.
    pluginsStarted.catch((err: unknown) => {
      if (waited) log.error({ err }, 'starting the plugins failed');
    });
    await settlesWithin(pluginsStarted, config['plugins.startwaitms']);
    waited = true;
    const keepAliveMs = config['server.keepaliveperiodseconds'] * 1000;
    const track = (sock: Socket) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      if (keepAliveMs > 0) sock.setKeepAlive(true, keepAliveMs);
      else if (keepAliveMs < 0) sock.setKeepAlive(false);
    };
    const redirect = certPair !== undefined && config['server.ssl.redirecttohttps'];
    if (certPair) {
      httpsServer = createHttpsServer({ cert: certPair.cert, key: certPair.key }, app.koa.callback());
      httpsServer.on('upgrade', app.handleUpgrade);
      httpsServer.on('connection', track);
      await listen(httpsServer, config['server.ssl.port'], config['server.ssl.listenaddr'], 'server.ssl.port');
      certWatch = watchCertPair(httpsServer, tlsFiles, log);
    }
    server = createServer(redirect ? redirectToHttps(portOf(httpsServer!, config['server.ssl.port'])) : app.koa.callback());
    if (!redirect) server.on('upgrade', app.handleUpgrade);
    server.on('connection', track);
    await listen(server, config['server.port'], config['server.listenaddr'], 'server.port');
    await cluster.listening({
      http: urlOf('http', config['server.listenaddr'], portOf(server, config['server.port'])),
      https: httpsServer ? urlOf('https', config['server.ssl.listenaddr'], portOf(httpsServer, config['server.ssl.port'])) : undefined,
    });
    // Instances are enabled only once the server listens, so a plugin may call the API from
    // enable (gotify/server#616); this covers the plugins already up, the others enable their own.
    await app.services.plugins.serverListening();
  } catch (err) {
    certWatch?.close();
    if (httpsServer?.listening) httpsServer.close();
    if (server?.listening) server.close();
    for (const s of sockets) s.destroy();
    await app?.close();
    await cluster?.close();
    await store.close();
    throw err;
  }

  const port = portOf(server, config['server.port']);
  const url = urlOf('http', config['server.listenaddr'], port);
  const httpsPort = httpsServer ? portOf(httpsServer, config['server.ssl.port']) : undefined;
  const httpsUrl = httpsPort === undefined ? undefined : urlOf('https', config['server.ssl.listenaddr'], httpsPort);
  // One line a person reads: where to open Flow, and whether anyone can log in as admin/admin.
  const everywhere = (a: string) => (a === '' || a === '0.0.0.0' || a === '::' ? ' (all interfaces)' : '');
  const shown = [
    httpsUrl === undefined ? undefined : httpsUrl + everywhere(config['server.ssl.listenaddr']),
    url + everywhere(config['server.listenaddr']) + (httpsUrl !== undefined && config['server.ssl.redirecttohttps'] ? ' redirecting to HTTPS' : ''),
  ].filter((x) => x !== undefined);
  log.info({ url, httpsUrl, datadir: data, version: FLOW_VERSION }, `Flow ${FLOW_VERSION} listening on ${shown.join(' and ')}, data in ${data}`);
  const defaultPassword = new DefaultPasswordCheck(app.services.users, config['defaultuser.name'], config['defaultuser.pass']);
  void defaultPassword.unchanged().then((unchanged) => {
    if (unchanged) log.warn(`the admin user "${config['defaultuser.name']}" still has its initial password: change it now (web UI: Users, or POST /current/user/password)`);
  });

  let closing: Promise<void> | undefined;
  const srv = server;
  const tlsSrv = httpsServer;
  const theApp = app;
  const theCluster = cluster;
  return {
    url,
    port,
    httpsUrl,
    httpsPort,
    config,
    dirs,
    app: theApp,
    log,
    close() {
      closing ??= (async () => {
        certWatch?.close();
        const stopped = Promise.all([
          new Promise<void>((resolve) => srv.close(() => resolve())),
          tlsSrv ? new Promise<void>((resolve) => tlsSrv.close(() => resolve())) : undefined,
        ]);
        await theApp.close();
        srv.closeIdleConnections();
        tlsSrv?.closeIdleConnections();
        // Keep-alive sockets with a request in flight get a moment to finish, then are cut.
        const force = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 1000);
        await stopped;
        clearTimeout(force);
        await theCluster.close();
        await store.close();
        log.info('flow stopped');
        log.flush?.();
      })();
      return closing;
    },
  };
}

/** The port a server listens on; on a unix socket, the configured one (what a redirect to it names). */
function portOf(server: Server | HttpsServer, configured: number): number {
  const addr = server.address();
  return addr !== null && typeof addr === 'object' ? (addr as AddressInfo).port : configured;
}

/** The URL to show for a listen address: 127.0.0.1 stands for "all addresses"; a unix socket shows as `unix:<path>`. */
function urlOf(scheme: 'http' | 'https', listenHost: string, port: number): string {
  if (listenHost.startsWith(UNIX_PREFIX)) return listenHost;
  const host = listenHost === '' || listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
