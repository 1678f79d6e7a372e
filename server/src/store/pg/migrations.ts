import { FlowError } from '../../errors.js';
import type { PgDb } from './pg-db.js';

/**
 * Flow's PostgreSQL schema, as numbered migrations applied in order at start (`applyMigrations`).
 * A migration is never edited once released: a change is a new entry. `flow_migrations` records
 * what was applied; a database with a newer version than this list is refused (an older Flow
 * must not write to a schema it does not know).
 *
 * Ids come from one sequence per entity (never reused, as LevelDB's persisted sequences).
 * Messages carry no foreign key to their application: a deleted application's messages are
 * removed in the background by the purger (`purge_marks`), as in LevelDB, so deleting an
 * application with a million messages is one small transaction. Times are `timestamptz`;
 * extras and retention are kept as the JSON text Flow wrote, so they read back byte for byte.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE SEQUENCE user_id_seq;
CREATE SEQUENCE client_id_seq;
CREATE SEQUENCE application_id_seq;
CREATE SEQUENCE message_id_seq;
CREATE SEQUENCE pluginconf_id_seq;

CREATE TABLE users (
  id bigint PRIMARY KEY,
  name text NOT NULL CONSTRAINT users_name_key UNIQUE,
  pass_hash text NOT NULL,
  admin boolean NOT NULL
);

CREATE TABLE clients (
  id bigint PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token text NOT NULL CONSTRAINT clients_token_key UNIQUE,
  name text NOT NULL,
  last_used timestamptz,
  created_at timestamptz,
  expires_after_inactivity_seconds integer,
  elevated_until timestamptz
);
CREATE INDEX clients_user_idx ON clients (user_id);

CREATE TABLE applications (
  id bigint PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token text NOT NULL CONSTRAINT applications_token_key UNIQUE,
  name text NOT NULL,
  description text NOT NULL,
  internal boolean NOT NULL,
  image text NOT NULL,
  default_priority integer NOT NULL,
  last_used timestamptz,
  sort_key text COLLATE "C" NOT NULL,
  retention text,
  CONSTRAINT applications_user_sort_key UNIQUE (user_id, sort_key)
);

CREATE TABLE messages (
  id bigint PRIMARY KEY,
  app_id bigint NOT NULL,
  user_id bigint NOT NULL,
  message text NOT NULL,
  title text NOT NULL,
  priority integer NOT NULL,
  extras text,
  date timestamptz NOT NULL
);
CREATE INDEX messages_app_idx ON messages (app_id, id);
CREATE INDEX messages_user_idx ON messages (user_id, id);

-- "Every message of this user (kind 'u') / application (kind 'a') with id <= up_to is deleted":
-- honoured by every read at once, removed by the purger once the messages are gone.
CREATE TABLE purge_marks (
  kind char(1) NOT NULL CHECK (kind IN ('u', 'a')),
  target_id bigint NOT NULL,
  user_id bigint NOT NULL,
  up_to bigint NOT NULL,
  PRIMARY KEY (kind, target_id)
);

CREATE TABLE plugin_confs (
  id bigint PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  module_path text NOT NULL,
  token text NOT NULL CONSTRAINT plugin_confs_token_key UNIQUE,
  application_id bigint NOT NULL,
  enabled boolean NOT NULL,
  config text NOT NULL,
  created_at timestamptz NOT NULL,
  CONSTRAINT plugin_confs_user_module_key UNIQUE (user_id, module_path)
);

CREATE TABLE plugin_storage (
  conf_id bigint PRIMARY KEY REFERENCES plugin_confs(id) ON DELETE CASCADE,
  data bytea NOT NULL
);

CREATE TABLE plugin_kv (
  conf_id bigint NOT NULL REFERENCES plugin_confs(id) ON DELETE CASCADE,
  key text COLLATE "C" NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (conf_id, key)
);

CREATE TABLE plugin_permissions (
  module_path text PRIMARY KEY,
  permission text NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'users.oidc_id',
    // The OpenID Connect identity a user signs in with (Gotify 3's users.oidc_id).
    sql: 'ALTER TABLE users ADD COLUMN oidc_id text CONSTRAINT users_oidc_id_key UNIQUE',
  },
  {
    version: 3,
    name: 'replicas and leases',
    // Several Flow servers on one database (server/src/cluster): the registry of running
    // replicas (cluster/replica.ts) and named leases with fencing tokens (cluster/lease.ts).
    // Every time in them is PostgreSQL's now(), never a replica's clock. Tokens come from one
    // sequence, so a lease deleted and taken again never repeats an earlier token. No foreign key
    // from leases to replicas: a replica may take a lease before its row is written.
    sql: `
CREATE TABLE replicas (
  id text PRIMARY KEY,
  name text NOT NULL,
  advertise_url text,
  plugin_modules text[] NOT NULL DEFAULT '{}',
  ttl_ms integer NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE lease_token_seq;

CREATE TABLE leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  token bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX leases_holder_idx ON leases (holder);
`,
  },
  {
    version: 5,
    name: 'change notifications between replicas',
    // Every committed change of a cached table (users, clients, applications, plugin confs) is
    // announced on channel flow_changes (read by cluster/notify-listener.ts) from inside its own
    // transaction, so the notification is delivered exactly when the change commits, and in
    // commit order. Payloads carry ids only ("<kind>:<id>/<application_name of the writer>", well
    // under NOTIFY's 8,000 bytes); the writer's application_name lets a replica skip its own
    // changes. Updates that touch only last_used (written by every message and stream) announce
    // nothing; flow.quiet = on (flow migrate's bulk copy) announces nothing either. New messages
    // have no trigger: a transaction that NOTIFYs holds a database-wide lock through its commit,
    // which would serialise every message insert's WAL flush; the replica that stored them
    // announces them after commit, in bursts (cluster/notify-feed.ts).
    sql: `
CREATE FUNCTION flow_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  IF current_setting('flow.quiet', true) = 'on' THEN RETURN NULL; END IF;
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  PERFORM pg_notify('flow_changes', TG_ARGV[0] || ':' || r.id || '/' || current_setting('application_name'));
  RETURN NULL;
END $$;

CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION flow_notify_change('u');
CREATE TRIGGER clients_added_or_deleted AFTER INSERT OR DELETE ON clients
  FOR EACH ROW EXECUTE FUNCTION flow_notify_change('c');
CREATE TRIGGER clients_changed AFTER UPDATE ON clients
  FOR EACH ROW WHEN ((to_jsonb(OLD) - 'last_used') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used'))
  EXECUTE FUNCTION flow_notify_change('c');
CREATE TRIGGER applications_added_or_deleted AFTER INSERT OR DELETE ON applications
  FOR EACH ROW EXECUTE FUNCTION flow_notify_change('a');
CREATE TRIGGER applications_changed AFTER UPDATE ON applications
  FOR EACH ROW WHEN ((to_jsonb(OLD) - 'last_used') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used'))
  EXECUTE FUNCTION flow_notify_change('a');
CREATE TRIGGER plugin_confs_changed AFTER INSERT OR UPDATE OR DELETE ON plugin_confs
  FOR EACH ROW EXECUTE FUNCTION flow_notify_change('p');
`,
  },
  {
    version: 6,
    name: 'plugin permission changes between replicas',
    // An admin's plugin permission rule changed on one replica: the others re-read the (small)
    // table and stop the instances they run for users who lost access (cluster/notify-feed.ts).
    // The table is keyed by module path, not an id: one "r:1" per statement says "read them again".
    sql: `
CREATE FUNCTION flow_notify_permissions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('flow.quiet', true) = 'on' THEN RETURN NULL; END IF;
  PERFORM pg_notify('flow_changes', 'r:1/' || current_setting('application_name'));
  RETURN NULL;
END $$;

CREATE TRIGGER plugin_permissions_changed AFTER INSERT OR UPDATE OR DELETE ON plugin_permissions
  FOR EACH STATEMENT EXECUTE FUNCTION flow_notify_permissions();
`,
  },
];

/** Any constant: the advisory lock that serialises migrations between Flow servers starting together. */
const MIGRATION_LOCK = 0x466c6f77;

/**
 * Brings the schema up to date. Servers starting at the same time on one database take turns
 * (a session advisory lock); each migration runs in its own transaction with its record in
 * `flow_migrations`, so a crash leaves the schema at a whole version.
 */
export async function applyMigrations(db: PgDb): Promise<{ from: number; to: number }> {
  const client = await db.pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS flow_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM flow_migrations');
      const from = rows[0]?.v ?? 0;
      const known = MIGRATIONS[MIGRATIONS.length - 1]!.version;
      if (from > known) {
        throw new FlowError(
          'FLOW_ERR_CONFIG_INVALID',
          `the PostgreSQL database at ${db.where} has Flow schema version ${from}, newer than this Flow's ${known}: run a newer Flow (nothing was changed)`,
        );
      }
      if (from === 0) await refuseForeignTables(client, db.where);
      for (const m of MIGRATIONS) {
        if (m.version <= from) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO flow_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
      return { from, to: known };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

/** A database that already holds tables Flow did not create (e.g. Gotify's) is refused, not mixed into. */
async function refuseForeignTables(client: { query: PgDb['pool']['query'] }, where: string): Promise<void> {
  const { rows } = await client.query<{ t: string }>(
    "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'flow_migrations' ORDER BY 1 LIMIT 5",
  );
  if (rows.length === 0) return;
  throw new FlowError(
    'FLOW_ERR_CONFIG_INVALID',
    `the PostgreSQL database at ${where} already holds tables Flow did not create (${rows.map((r) => r.t).join(', ')}): give Flow a database of its own (to bring a Gotify database over, use flow import gotify, then flow migrate --to postgres)`,
  );
}
