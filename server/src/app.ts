import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import Koa from 'koa';
import type { Cluster } from './cluster/cluster.js';
import { relayEndpoint } from './cluster/forward-endpoint.js';
import { pluginCluster } from './cluster/plugin-leases.js';
import type { FlowConfig } from './config/keys.js';
import { EventBus } from './events.js';
import { errorBody } from './errors.js';
import { accessLog } from './http/access-log.js';
import { Auth } from './http/auth.js';
import { cleanPath } from './http/clean-path.js';
import { cors } from './http/cors.js';
import { errorBodies } from './http/error-body.js';
import { attachProxyTrust, ProxyTrust } from './http/location.js';
import { responseHeaders } from './http/response-headers.js';
import { requestId } from './http/request-id.js';
import { staticUi } from './http/static-ui.js';
import type { FlowState } from './http/state.js';
import { maskUrl, type Logger } from './log.js';
import { applicationRoutes } from './routes/application.js';
import { clientRoutes } from './routes/client.js';
import type { FlowRouter, RouteDeps } from './routes/deps.js';
import { healthRoutes } from './routes/health.js';
import { imageRoutes } from './routes/image.js';
import { messageRoutes, postMessageRoute } from './routes/message.js';
import { optionsFallback } from './routes/options.js';
import { sessionRoutes } from './routes/session.js';
import { oidcRoutes } from './routes/oidc.js';
import { OidcLogin } from './oidc/login.js';
import { oidcSettings, passwordLoginAllowed } from './oidc/settings.js';
import { ELEVATION_SECONDS, SESSION_SECONDS } from './http/session-cookie.js';
import { streamRoutes } from './routes/stream.js';
import { userRoutes } from './routes/user.js';
import { pluginRoutes } from './routes/plugin.js';
import { pluginSettings } from './plugins/settings.js';
import { PluginService } from './services/plugin.js';
import { ApplicationService } from './services/application.js';
import { ClientService } from './services/client.js';
import { MessageService } from './services/message.js';
import { PluginPermissionService } from './services/plugin-permission.js';
import { RetentionService } from './services/retention.js';
import { UserService } from './services/user.js';
import type { TokenFormat } from './services/token.js';
import { pluginPermissionRoutes } from './routes/plugin-permission.js';
import { backupRoutes } from './routes/backup.js';
import { pluginFolderRoutes } from './routes/plugin-folder.js';
import type { Store } from './store/store.js';
import { LevelStore } from './store/level/level-store.js';
import { StreamHub } from './stream/hub.js';
import { ReplicaFeed } from './cluster/notify-feed.js';
import { PgStore } from './store/pg/pg-store.js';
import { VERSION_INFO } from './version.js';

export interface AppOptions {
  config: FlowConfig;
  store: Store;
  /** This server as a replica (cluster/cluster.ts): alone on LevelDB, one of several on PostgreSQL. */
  cluster: Cluster;
  log: Logger;
  /** Absolute directories resolved by startFlow. */
  dirs: { data: string; images: string; plugins: string };
  /** How often clients with an open /stream get lastUsed = now; default 5 minutes (Gotify). For tests. */
  streamLastUsedPeriodMs?: number;
  /** How far the stream process may fall behind before it is restarted. For tests. */
  streamMaxBacklogChars?: number;
  /** Milliseconds since the epoch for message dates and retention; default Date.now. For tests. */
  clock?: () => number;
}

/** Everything the running server is made of; the plugin host receives what it needs from here. */
export interface FlowApp {
  koa: Koa<FlowState>;
  bus: EventBus;
  auth: Auth;
  hub: StreamHub;
  store: Store;
  cluster: Cluster;
  /** With PostgreSQL: the changes of other replicas, applied here (started by startFlow); none with LevelDB. */
  replicaFeed?: ReplicaFeed;
  services: {
    users: UserService;
    clients: ClientService;
    applications: ApplicationService;
    messages: MessageService;
    plugins: PluginService;
    retention: RetentionService;
    /** Loaded by startFlow before the plugins start. */
    pluginPermissions: PluginPermissionService;
  };
  /** The http server's 'upgrade' listener (websockets: /stream). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes streams and unsubscribes; the caller closes the http server and the store. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The one place that builds services and the Koa app. Reading order is request order:
 * 1. services over the store, wired to the event bus;
 * 2. middleware, outermost first: trusted proxies and response headers (when configured) → request id → access log → error body → clean path → web UI → CORS
 *    (after the UI, which Gotify leaves out of CORS; http/cors.ts exempts /health, /image, webhooks);
 * 3. route modules, each with its own auth and body parsing (no global body parser: webhooks
 *    need raw bytes). To add a resource: build its service in step 1 and push its router in step 3.
 */
export function createApp(opts: AppOptions): FlowApp {
  const { config, store, log } = opts;

  // 1. services
  const bus = new EventBus((event, err) => log.error({ err, event }, 'event handler failed'));
  const users = new UserService({ users: store.users, bus, passStrength: config.passstrength });
  const clients = new ClientService({ clients: store.clients, bus, tokenFormat: config.tokenformat as TokenFormat });
  const retention = new RetentionService({
    applications: store.applications,
    messages: store.messages,
    bus,
    log: log.child({ component: 'retention' }),
    defaults: { maxCount: config['retention.maxcount'], maxAgeSeconds: config['retention.maxageseconds'] },
    intervalMs: config['retention.intervalseconds'] * 1000,
    clock: opts.clock,
    leader: opts.cluster.leader,
  });
  const applications = new ApplicationService({ applications: store.applications, imagesDir: opts.dirs.images, retention, tokenFormat: config.tokenformat as TokenFormat });
  const messages = new MessageService({ messages: store.messages, applications: store.applications, bus, clock: opts.clock });
  const auth = new Auth({ users, clients, applications, secureCookie: config['server.securecookie'], passwordLogin: passwordLoginAllowed(config) });
  // OIDC sign-in: the settings are checked now (a config error stops the start); the provider is first contacted at a login.
  const oidcConfig = oidcSettings(config);
  const oidc =
    oidcConfig &&
    new OidcLogin({
      settings: oidcConfig,
      users,
      clients,
      log: log.child({ component: 'oidc' }),
      session: { expiresAfterInactivitySeconds: SESSION_SECONDS, elevationSeconds: ELEVATION_SECONDS },
      clock: opts.clock,
    });
  const pluginSettingsOf = pluginSettings(config, opts.dirs);
  // Started by startFlow: instances before the server listens, enabling after (PluginService.serverListening).
  let plugins: PluginService;
  const pluginPermissions = new PluginPermissionService({
    store: store.pluginPermissions,
    users,
    subjects: () => plugins.permissionSubjects(),
    revoke: (modulePath, stillAllowed) => plugins.revoke(modulePath, stillAllowed),
  });
  // Changed on another replica (PostgreSQL): the instances running here follow the new rules.
  bus.on('pluginPermissionsChanged', () => pluginPermissions.reapply());
  plugins = new PluginService({
    access: pluginPermissions,
    confs: store.pluginConfs,
    users,
    applications,
    messages,
    bus,
    log,
    settings: pluginSettingsOf,
    // With replicas: each instance on the one replica holding its lease, calls relayed there.
    cluster: pluginCluster(opts.cluster, store, log),
  });
  const hub = new StreamHub({
    bus,
    auth,
    log: log.child({ component: 'stream' }),
    pingPeriodSeconds: config['server.stream.pingperiodseconds'],
    allowedOrigins: config['server.stream.allowedorigins'],
    touchTokens: (tokens) => void clients.markUsed(tokens),
    lastUsedPeriodMs: opts.streamLastUsedPeriodMs,
    writerProcess: config['server.stream.writerprocess'],
    maxWriterBacklogChars: opts.streamMaxBacklogChars,
  });
  const replicaFeed =
    store instanceof PgStore
      ? new ReplicaFeed({ store, bus, log: log.child({ component: 'replicas' }), replicaId: opts.cluster.replica.id, subscribers: hub })
      : undefined;
  // Plugins take their users' messages from other replicas too (services/plugin-events.ts).
  replicaFeed?.addSubscribers(plugins.subscribedUsers);

  // 2. middleware
  const koa = new Koa<FlowState>({ proxy: false });
  koa.silent = true;
  // Read by http/body.ts for every body (on the context prototype: no per-request cost).
  Object.assign(koa.context, { bodyTimeoutMs: config['limits.bodytimeoutms'] });
  koa.on('error', (err: unknown) => log.error({ err }, 'koa error'));
  // Who may set X-Forwarded-* (server.trustedproxies): known to every reader of those headers (http/location.ts).
  const proxies = new ProxyTrust(config['server.trustedproxies']);
  if (proxies.configured) {
    koa.use((ctx, next) => {
      attachProxyTrust(ctx.req, proxies);
      return next();
    });
  }
  if (Object.keys(config['server.responseheaders']).length > 0) koa.use(responseHeaders(config['server.responseheaders']));
  koa.use(requestId(log));
  koa.use(accessLog(log));
  koa.use(errorBodies());
  koa.use(cleanPath());
  // Plugin calls other replicas relay here (/internal/cluster/…, cluster.secret); none on LevelDB.
  if (opts.cluster.registry) koa.use(relayEndpoint(opts.cluster.secret));
  // The web UI (index.html and its assets only; every other path falls through to the routes).
  koa.use(staticUi());
  koa.use(
    cors({
      allowOrigins: config['server.cors.alloworigins'],
      allowMethods: config['server.cors.allowmethods'],
      allowHeaders: config['server.cors.allowheaders'],
    }),
  );

  // 3. routes
  const deps: RouteDeps = { config, auth, users, clients, applications, messages, imagesDir: opts.dirs.images, version: VERSION_INFO };
  const routers: FlowRouter[] = [
    // First the hot paths from outside, /message (POST /message itself is answered just before
    // the routers) then webhooks: each router before the matching one tests its routes against
    // the path. No two routers serve the same path.
    messageRoutes(deps),
    pluginRoutes({ ...deps, plugins }),
    pluginPermissionRoutes({ ...deps, permissions: pluginPermissions }),
    backupRoutes({ ...deps, level: store instanceof LevelStore ? () => store.db.level : undefined }),
    pluginFolderRoutes({ ...deps, folders: { pluginsdir: opts.dirs.plugins, bundled: pluginSettingsOf.bundledDir ?? null } }),
    healthRoutes({
      ping: () => store.ping(),
      replica: () => ({ ...opts.cluster.replica, role: opts.cluster.leader.isLeader() ? 'leader' : 'follower' }),
      version: VERSION_INFO,
    }),
    imageRoutes(deps),
    userRoutes(deps),
    clientRoutes(deps),
    applicationRoutes(deps),
    sessionRoutes(deps),
    ...(oidc ? [oidcRoutes({ ...deps, oidc })] : []),
    streamRoutes(deps),
  ];
  koa.use(postMessageRoute(deps));
  for (const r of routers) koa.use(r.routes());
  koa.use(optionsFallback());
  retention.start();

  let closed = false;
  return {
    koa,
    bus,
    auth,
    hub,
    store,
    cluster: opts.cluster,
    replicaFeed,
    services: { users, clients, applications, messages, plugins, retention, pluginPermissions },
    handleUpgrade(req, socket, head) {
      // Not `new URL(req.url, base)`: it reads `//stream` as a host. Slashes collapse as in cleanPath().
      const path = (req.url ?? '/').split('?')[0]!.replace(/\/{2,}/g, '/');
      socket.on('error', () => socket.destroy());
      attachProxyTrust(req, proxies);
      if (path === '/stream') {
        log.info({ method: req.method, path: maskUrl(req.url ?? ''), upgrade: 'websocket' }, 'request');
        void hub.handleUpgrade(req, socket, head);
        return;
      }
      const body = JSON.stringify(errorBody(404, 'page not found'));
      socket.end(
        `HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      await retention.close();
      // Messages already stored reach their streams and plugins (and are announced to other replicas) before these close.
      messages.fanOut.drain();
      await replicaFeed?.close();
      await hub.close();
      await plugins.stop();
    },
  };
}
