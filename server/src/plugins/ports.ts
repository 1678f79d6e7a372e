import type { PluginConfRecord } from '../model/plugin-conf.js';
import type { WriteFence } from '../store/message.js';

/**
 * What the plugin host needs from the rest of the server, as narrow as it can be: plugins/
 * depends on these, never on services/ (which depend on plugins/), so the graph has no circle
 * and a host call can be tested against a fake.
 */

/** A message a plugin sends through its instance's application. */
export interface PluginMessage {
  message: string;
  title?: string;
  priority?: number;
  extras?: Record<string, unknown>;
}

/**
 * Where `message/send` goes: the same path as POST /message for the instance's internal
 * application (MessageService in the server), so the message is stored, streamed and
 * offered to subscribers; resolves once it is durable.
 */
export interface MessageSink {
  /** With `fence` (replicas) the message commits only while the instance's lease holds (FLOW_ERR_LEASE_LOST otherwise). */
  createForApplication(applicationId: number, input: PluginMessage, opts?: { fence?: WriteFence }): Promise<{ id: number }>;
}

/** The plugin confs, by id: a host call's instance id is its conf's id. */
export interface ConfLookup {
  get(id: number): PluginConfRecord | undefined;
}

/**
 * Which plugin instances this server may run (issue 19): on PostgreSQL with several replicas,
 * each user's instance of each plugin is active on exactly one replica, the one holding its
 * lease (cluster/plugin-leases.ts); with LevelDB the server is alone and owns every instance
 * (`OWNS_EVERYTHING`: no database work, no change in behaviour or speed).
 */
export interface InstanceOwnership {
  /** False when this server is the only one (LevelDB): every instance is its own. */
  readonly clustered: boolean;
  /**
   * Whether this replica may act for the instance at this moment: it holds the lease and, by
   * its own monotonic clock, the lease cannot have expired yet. Host calls of an instance that
   * fails it (a replica paused past its lease) are refused: see cluster/plugin-leases.ts.
   */
  holds(confId: number): boolean;
  /**
   * What every write done for the instance (its messages, storage, key-value entries) checks in
   * its own transaction: that this tenure of its lease still holds at commit. `holds()` alone is
   * not enough: a replica paused between that check and the commit would write for an instance
   * another replica already runs. Undefined when no check is needed (LevelDB) or not held.
   */
  fence(confId: number): WriteFence | undefined;
  /** A write under `fence` was refused by the database (FLOW_ERR_LEASE_LOST): the lease is gone, stop the instance here. */
  forfeit(confId: number, fence: WriteFence): void;
  /** Takes the lease of an instance nobody holds (or confirms ours); false when another replica holds it. */
  take(confId: number): Promise<boolean>;
  /** Gives the instance up (it was deleted, or its plugin cannot run here): another replica may take it. */
  release(confId: number): Promise<void>;
  /**
   * How many more of the plugin's `instances` this replica may take now: its fair share (the
   * instances ÷ the replicas running the plugin, this one included) less what it holds.
   */
  shareLeft(modulePath: string, instances: number): Promise<number>;
}

/** The ownership of a server that is its only replica (LevelDB). */
export const OWNS_EVERYTHING: InstanceOwnership = {
  clustered: false,
  holds: () => true,
  fence: () => undefined,
  forfeit: () => undefined,
  take: () => Promise.resolve(true),
  release: () => Promise.resolve(),
  shareLeft: () => Promise.resolve(Infinity),
};
