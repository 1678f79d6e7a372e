/**
 * Every configuration key Flow understands, in one table. To add a key, add a row: the
 * loader (config.yml → env → flags), `flow --help`, validation and the `FlowConfig` type all
 * follow from it. Keys are Gotify-style dotted lower-case names; in config.yml they nest
 * (`server: { port: 8080 }`). The env var is `FLOW_` + the key upper-cased with dots turned
 * into underscores, the flag is `--` + the key with dots turned into dashes, unless a row
 * says otherwise.
 */
import { checkAddressList, checkBaseUrl, checkHeaderMap, checkRegexList, checkSharedSecret } from './value-checks.js';

import type { ConfigKeyDef, ConfigType } from './key-def.js';
import { PLUGIN_KEYS } from './plugin-keys.js';

export type { ConfigKeyDef, ConfigType } from './key-def.js';

export const CONFIG_KEYS = [
  { key: 'server.listenaddr', type: 'string', default: '', description: 'address to bind on; empty binds on all addresses; unix:/path/flow.sock listens on a unix domain socket instead (as Gotify)' },
  { key: 'server.port', type: 'int', default: 8080, min: 0, max: 65535, description: 'HTTP port (0 picks a free port)' },
  {
    key: 'server.stream.pingperiodseconds',
    type: 'int',
    default: 45,
    min: 1,
    max: 3600,
    description: 'interval of websocket pings on /stream; a client silent for this + 15 s is dropped',
  },
  {
    key: 'server.stream.allowedorigins',
    type: 'list',
    default: [],
    check: checkRegexList as (v: never) => string | undefined,
    description: 'regexes matched against the Origin host of /stream upgrades (same host is always allowed); comma-separated in env/flags',
  },
  {
    key: 'server.stream.writerprocess',
    type: 'bool',
    default: true,
    description:
      'write /stream messages and pings from a separate process at a lower CPU priority, so fan-out to many streams never delays requests (TLS streams stay in the server process)',
  },
  // CORS as Gotify's gin-contrib/cors config (server.cors.*); see http/cors.ts for what it guards.
  {
    key: 'server.cors.alloworigins',
    type: 'list',
    default: [],
    check: checkRegexList as (v: never) => string | undefined,
    description:
      'regexes matched (unanchored) against the lower-cased Origin, e.g. ^https://app\\.example\\.com$; other cross-origin API requests get 403; comma-separated in env/flags',
  },
  {
    key: 'server.cors.allowmethods',
    type: 'list',
    default: [],
    description: 'Access-Control-Allow-Methods sent on preflights of allowed origins, e.g. GET,POST,PUT,DELETE,OPTIONS; empty sends none',
  },
  {
    key: 'server.cors.allowheaders',
    type: 'list',
    default: [],
    description: 'Access-Control-Allow-Headers sent on preflights of allowed origins, e.g. Authorization,Content-Type,X-Gotify-Key; empty sends none',
  },
  {
    key: 'server.responseheaders',
    type: 'map',
    default: {},
    check: checkHeaderMap as (v: never) => string | undefined,
    description:
      'headers added to every HTTP response, as Gotify, e.g. {X-Custom-Header: "custom value"} (a YAML or JSON mapping in env/flags); a response that sets the header itself keeps its own',
  },
  {
    key: 'server.trustedproxies',
    type: 'list',
    default: [],
    check: checkAddressList as (v: never) => string | undefined,
    description:
      'IPs or CIDR ranges of reverse proxies whose X-Forwarded-For/-Real-IP give the client address (login throttling, webhooks) and whose X-Forwarded-Proto/-Host/-Prefix are believed, e.g. [127.0.0.1, 10.0.0.0/8]; empty: the peer address is the client and X-Forwarded-Proto/-Host/-Prefix are read from any caller, as Gotify',
  },
  // TLS as Gotify's server.ssl.*: HTTPS (and wss) on server.ssl.port beside HTTP on server.port.
  { key: 'server.ssl.enabled', type: 'bool', default: false, description: 'serve HTTPS on server.ssl.port with server.ssl.certfile/certkey (reloaded when the files change)' },
  { key: 'server.ssl.redirecttohttps', type: 'bool', default: true, description: 'with ssl enabled, answer plain HTTP requests with a redirect to HTTPS (as Gotify)' },
  { key: 'server.ssl.listenaddr', type: 'string', default: '', description: 'address the HTTPS server binds on; empty binds on all addresses; unix:/path listens on a unix domain socket' },
  { key: 'server.ssl.port', type: 'int', default: 443, min: 0, max: 65535, description: 'HTTPS port (0 picks a free port)' },
  { key: 'server.ssl.certfile', type: 'string', default: '', description: 'PEM certificate (chain) file for HTTPS' },
  { key: 'server.ssl.certkey', type: 'string', default: '', description: 'PEM private key file for HTTPS' },
  {
    key: 'server.ssl.letsencrypt.enabled',
    type: 'bool',
    default: false,
    check: ((v: boolean) =>
      v ? 'Let\'s Encrypt is not supported: set server.ssl.certfile and server.ssl.certkey (e.g. from certbot) or use a reverse proxy' : undefined) as (
      v: never,
    ) => string | undefined,
    description: 'Gotify\'s built-in Let\'s Encrypt; refused (use certificate files or a reverse proxy)',
  },
  {
    key: 'server.keepaliveperiodseconds',
    type: 'int',
    default: 0,
    min: -1,
    max: 86_400,
    description: 'TCP keep-alive period of client connections, as Gotify; 0 keeps the system default, -1 turns keep-alive off',
  },
  { key: 'datadir', type: 'string', default: 'data', description: 'directory for the database, uploaded images and (by default) plugins' },
  {
    key: 'database.dialect',
    type: 'string',
    default: 'leveldb',
    check: ((v: string) =>
      ['leveldb', 'postgres', 'sqlite3', 'mysql'].includes(v) ? undefined : `"${v}" is not a database dialect: leveldb (embedded, the default) or postgres`) as (v: never) => string | undefined,
    description: 'where the data lives: leveldb (embedded in <datadir>/db) or postgres (database.connection); Gotify\'s sqlite3 and mysql mean leveldb, with a warning (bring their data over with flow import gotify)',
  },
  {
    key: 'database.connection',
    type: 'string',
    default: '',
    secret: true,
    description: 'with database.dialect postgres: the server, as Gotify writes it ("host=db port=5432 user=flow dbname=flow password=… sslmode=disable") or a postgres:// URL',
  },
  // Several Flow servers on one PostgreSQL database (server/src/cluster, "Several replicas" in server/README.md).
  {
    key: 'cluster.secret',
    type: 'string',
    default: '',
    secret: true,
    check: checkSharedSecret as (v: never) => string | undefined,
    description:
      'with database.dialect postgres and several Flow servers on one database: the secret they share to call each other (/internal/cluster/…), at least 16 characters, the same on every replica; required once a second replica runs',
  },
  {
    key: 'cluster.advertiseurl',
    type: 'string',
    default: '',
    check: checkBaseUrl as (v: never) => string | undefined,
    description:
      'the base URL at which the other replicas reach this one, e.g. http://10.0.0.5:8080; empty: http://<server.listenaddr or this host>:<server.port>',
  },
  { key: 'cluster.name', type: 'string', default: '', description: 'a name for this replica, shown in /health and logs; empty: the host name' },
  { key: 'pluginsdir', type: 'string', default: '', description: 'plugin folder; empty means <datadir>/plugins' },
  { key: 'uploadedimagesdir', type: 'string', default: '', description: 'folder of application images; empty means <datadir>/images' },
  { key: 'defaultuser.name', type: 'string', default: 'admin', description: 'name of the admin created on an empty database' },
  { key: 'defaultuser.pass', type: 'string', default: 'admin', secret: true, description: 'password of the admin created on an empty database' },
  { key: 'passstrength', type: 'int', default: 10, min: 4, max: 31, description: 'bcrypt cost for password hashes' },
  { key: 'registration', type: 'bool', default: false, description: 'allow anonymous POST /user (non-admin users only)' },
  {
    key: 'tokenformat',
    type: 'string',
    default: 'classic',
    check: ((v: string) => (v === 'classic' || v === 'enhanced' ? undefined : 'must be classic or enhanced')) as (v: never) => string | undefined,
    description:
      "form of new application and client tokens: classic (A…/C…, 15 characters, what the Gotify CLI and shoutrrr accept) or enhanced (Gotify 3's Ed25519 gtfya./gtfyc. tokens); both kinds are always accepted",
  },
  { key: 'server.securecookie', type: 'bool', default: false, description: 'mark the web session cookie Secure (set it when the server is reached over HTTPS), as Gotify 3' },
  // OIDC sign-in (server/src/oidc): Gotify 3's keys and defaults, plus Flow's admin group and local-login switch.
  { key: 'oidc.enabled', type: 'bool', default: false, description: 'offer sign-in through an OpenID Connect provider (/auth/oidc/*), as Gotify 3' },
  { key: 'oidc.issuer', type: 'string', default: '', description: 'the provider\'s issuer URL (its /.well-known/openid-configuration is read at the first login, not at start)' },
  { key: 'oidc.clientid', type: 'string', default: '', description: 'client id registered at the provider' },
  { key: 'oidc.clientsecret', type: 'string', default: '', secret: true, description: 'client secret registered at the provider; empty: a public client (PKCE only)' },
  {
    key: 'oidc.redirecturl',
    type: 'string',
    default: '',
    description: 'the callback URL registered at the provider, https://<your server>/auth/oidc/callback; empty: built from the address the browser used (X-Forwarded-* honoured)',
  },
  { key: 'oidc.usernameclaim', type: 'string', default: 'preferred_username', description: 'claim whose value names the Flow user' },
  { key: 'oidc.autoregister', type: 'bool', default: true, description: 'create a user at the first OIDC login of an unknown identity (off: only identities already linked to a user may sign in)' },
  {
    key: 'oidc.linkbyusername',
    type: 'bool',
    default: false,
    gotifyEnv: 'GOTIFY_OIDC_LINK_BY_USERNAME',
    description: 'let an OIDC identity take over an existing user of the same name that is not linked to another identity (off: such a login is refused)',
  },
  { key: 'oidc.scopes', type: 'list', default: ['openid', 'profile', 'email'], description: 'scopes requested from the provider; comma-separated in env/flags' },
  { key: 'oidc.groupsclaim', type: 'string', default: 'groups', description: "Flow's addition: claim holding the user's groups (a list or one string), read when oidc.admingroup is set" },
  {
    key: 'oidc.admingroup',
    type: 'string',
    default: '',
    description: "Flow's addition: members of this group are admins and non-members are not, set at every OIDC login; empty: OIDC never changes the admin flag (new users are not admins, as Gotify)",
  },
  {
    key: 'oidc.locallogin',
    type: 'bool',
    default: true,
    description: "Flow's addition: with OIDC enabled, false refuses passwords (POST /auth/local/login and Basic auth); application and client tokens and existing sessions keep working",
  },
  {
    key: 'limits.bodybytes',
    type: 'int',
    default: 1024 * 1024,
    min: 1,
    max: 1024 * 1024 * 1024,
    description: 'largest accepted request body in bytes; larger bodies get 413',
  },
  {
    key: 'limits.imagebytes',
    type: 'int',
    default: 10 * 1024 * 1024,
    min: 1,
    max: 1024 * 1024 * 1024,
    description: 'largest accepted application image upload (POST /application/:id/image) in bytes, instead of limits.bodybytes; larger get 413',
  },
  {
    key: 'limits.bodytimeoutms',
    type: 'int',
    default: 30_000,
    min: 100,
    max: 3_600_000,
    description: 'a request body must arrive completely within this many ms after it is first read; slower bodies get 408 and the connection is closed',
  },
  // Retention (services/retention.ts): defaults for applications that set no retention of their own.
  {
    key: 'retention.maxcount',
    type: 'int',
    default: 0,
    min: 0,
    max: 100_000_000,
    description: 'default retention: keep only the newest N messages of each application (0: no limit); an application\'s own retention.maxCount overrides it',
  },
  {
    key: 'retention.maxageseconds',
    type: 'int',
    default: 0,
    min: 0,
    max: 100 * 365 * 86_400,
    description: 'default retention: delete messages older than this many seconds (0: no limit); an application\'s own retention.maxAgeSeconds overrides it',
  },
  { key: 'retention.intervalseconds', type: 'int', default: 60, min: 1, max: 86_400, description: 'how often age limits are enforced (count limits are enforced about a second after new messages)' },
  // Plugin host (server/src/plugins). Durations in ms where tests need sub-second values.
  ...PLUGIN_KEYS,
  {
    key: 'recording.dir',
    type: 'string',
    default: '',
    description: 'record every plugin session (one JSONL transcript per plugin process, secrets redacted) into this folder, for `flow-plugin replay`; empty: off',
  },
  {
    key: 'log.level',
    type: 'string',
    default: 'info',
    check: ((v: string) =>
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v)
        ? undefined
        : 'must be one of fatal, error, warn, info, debug, trace, silent') as (v: never) => string | undefined,
    description: 'pino log level',
  },
  {
    key: 'log.format',
    type: 'string',
    default: 'auto',
    check: ((v: string) => (['auto', 'json', 'pretty'].includes(v) ? undefined : 'must be one of auto, json, pretty')) as (v: never) => string | undefined,
    description: 'log lines as JSON or pretty and coloured; auto: pretty when stdout is a terminal, JSON otherwise',
  },
] as const satisfies readonly ConfigKeyDef[];

type Row = (typeof CONFIG_KEYS)[number];
export type ConfigKey = Row['key'];
type ValueOf<T extends ConfigType> = T extends 'int'
  ? number
  : T extends 'bool'
    ? boolean
    : T extends 'list'
      ? string[]
      : T extends 'map'
        ? Record<string, string>
        : string;

/** The resolved configuration, indexed by dotted key: `config['server.port']`. */
export type FlowConfig = { [K in ConfigKey]: ValueOf<Extract<Row, { key: K }>['type']> };

export const envName = (def: ConfigKeyDef): string =>
  def.env ?? 'FLOW_' + def.key.toUpperCase().replace(/\./g, '_');

export const flagName = (def: ConfigKeyDef): string => def.flag ?? '--' + def.key.replace(/\./g, '-');
