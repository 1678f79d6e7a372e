import type { PluginConfRecord } from '../model/plugin-conf.js';

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
  createForApplication(applicationId: number, input: PluginMessage): Promise<{ id: number }>;
}

/** The plugin confs, by id: a host call's instance id is its conf's id. */
export interface ConfLookup {
  get(id: number): PluginConfRecord | undefined;
}
