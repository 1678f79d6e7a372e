import type { ApplicationStore } from './application.js';
import type { ClientStore } from './client.js';
import type { MessageStore } from './message.js';
import type { PluginConfStore } from './plugin-conf.js';
import type { PluginPermissionStore } from './plugin-permission.js';
import type { UserStore } from './user.js';

/** The entities with an id sequence. */
export const ID_ENTITIES = ['user', 'client', 'application', 'message', 'pluginconf'] as const;
export type IdEntity = (typeof ID_ENTITIES)[number];

/** Which database holds the state: the embedded LevelDB (`level/`) or a PostgreSQL server (`pg/`). */
export type StoreBackend = 'leveldb' | 'postgres';

/**
 * The typed store services are built on, whatever the backend. Each entity store keeps its
 * public API (the interfaces beside this file); `level/level-store.ts` and `pg/pg-store.ts`
 * implement them. Cross-entity changes (a user with its applications, clients and plugin
 * confs) are atomic in both: one LevelDB batch, one PostgreSQL transaction.
 */
export interface Store {
  readonly backend: StoreBackend;
  readonly users: UserStore;
  readonly clients: ClientStore;
  readonly applications: ApplicationStore;
  readonly messages: MessageStore;
  readonly pluginConfs: PluginConfStore;
  readonly pluginPermissions: PluginPermissionStore;
  /** The last id handed out per entity (0 before the first); an export carries them so ids are never reused. */
  lastIds(): Promise<Record<IdEntity, number>>;
  /** Throws (FLOW_ERR_STORE_UNAVAILABLE / _CLOSED) unless the database answers and accepts writes. */
  ping(): Promise<void>;
  /** Stops background work after its step in flight, then closes. Safe to call twice. */
  close(): Promise<void>;
}
