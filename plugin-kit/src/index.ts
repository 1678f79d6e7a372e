/**
 * @flow/plugin-kit: write a Flow plugin as one small file.
 *
 * Every symbol exported here is public API for plugin authors: add exports by name, never
 * with `export *`. The test host lives in '@flow/plugin-kit/testing'.
 */

// Defining a plugin
export { definePlugin } from './define.js';
export type { PluginDefinition, PluginOptions, UsedCapability } from './define.js';

// Instances
export { ConfigError, PluginInstance } from './instance.js';
export type {
  BlobStorage,
  CallContext,
  DisplayLocation,
  InstanceContext,
  KeyValueStore,
  LogFields,
  Logger,
  OutgoingMessage,
  PluginHandlers,
  PluginInstanceClass,
  WebhookReply,
  WebhookRequest,
} from './instance.js';

// Running it
export { LAUNCH_ENV, runPlugin, servePlugin } from './serve.js';
export type { PluginServer, RunOptions, ServeOptions } from './serve.js';

// Errors that cross the wire (a rejected host call carries its code and data)
export { RpcError } from './connection.js';

// Wire types plugin handlers receive, re-exported so a plugin depends on the kit only
export { ErrorCodes } from '@flow/protocol';
export type { Message, PluginInfo, UserContext } from '@flow/protocol';
