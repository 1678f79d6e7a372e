import { z } from 'zod';
import { defineNotification, defineRequest } from './define.js';
import { EmptyParams, EmptyResult, PluginInfo } from './common.js';

/**
 * Limits the host applies on this connection, sent at the handshake so a plugin can
 * respect them instead of finding out by error.
 */
export const HostLimits = z
  .object({
    maxFrameBytes: z.number().int().positive().describe('Largest frame body (bytes) either side may send.'),
    storageQuotaBytes: z.number().int().positive().describe('Per-instance quota for the storage blob plus all key-value entries.'),
    webhookBodyBytes: z.number().int().positive().describe('Largest webhook request body the host forwards.'),
  })
  .meta({ id: 'HostLimits' });
export type HostLimits = z.infer<typeof HostLimits>;

export const InitializeParams = z
  .object({
    protocolVersions: z.array(z.string()).min(1).describe('Every version the host speaks, newest first ("1.1").'),
    host: z.object({ name: z.string(), version: z.string() }),
    limits: HostLimits,
  })
  .meta({ id: 'InitializeParams' });
export type InitializeParams = z.infer<typeof InitializeParams>;

export const InitializeResult = z
  .object({
    protocolVersion: z.string().describe('The version the plugin picked from protocolVersions.'),
    info: PluginInfo,
    capabilities: z
      .array(z.string())
      .describe('Capabilities the plugin implements (configurer, displayer, messenger, storager, webhooker, subscriber). Unknown names are ignored.'),
    configSchema: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'Since 1.1, configurers only: a JSON Schema (draft 2020-12) of the configuration document as the user writes it (before defaults are merged). The host validates every configuration against it before the plugin sees it.',
      ),
  })
  .meta({ id: 'InitializeResult' });
export type InitializeResult = z.infer<typeof InitializeResult>;

/**
 * The handshake, always the first message. The plugin answers with the version it picked,
 * its info and its capabilities, or with IncompatibleVersion naming both sides' versions.
 */
export const Initialize = defineRequest({
  method: 'initialize',
  direction: 'hostToPlugin',
  params: InitializeParams,
  result: InitializeResult,
  defaultTimeoutMs: 10_000,
  since: '1.0',
});

/** Sent once after a successful `initialize` response; only then does the host send other requests. */
export const Initialized = defineNotification({
  method: 'initialized',
  direction: 'hostToPlugin',
  params: EmptyParams,
  since: '1.0',
});

/** Asks the plugin to stop its work (timers, sockets) and answer; then the host sends `exit`. */
export const Shutdown = defineRequest({
  method: 'shutdown',
  direction: 'hostToPlugin',
  params: EmptyParams,
  result: EmptyResult,
  defaultTimeoutMs: 5_000,
  since: '1.0',
});

/** The plugin exits: code 0 after `shutdown`, 1 otherwise. It also exits on stdin EOF. */
export const Exit = defineNotification({
  method: 'exit',
  direction: 'hostToPlugin',
  params: EmptyParams,
  since: '1.0',
});

/** Liveness probe: a plugin that does not answer within the deadline is restarted. */
export const Ping = defineRequest({
  method: 'ping',
  direction: 'hostToPlugin',
  params: EmptyParams,
  result: EmptyResult,
  defaultTimeoutMs: 5_000,
  since: '1.0',
});

export const PluginInfoResult = z
  .object({ info: PluginInfo, capabilities: z.array(z.string()) })
  .meta({ id: 'PluginInfoResult' });
export type PluginInfoResult = z.infer<typeof PluginInfoResult>;

/** The plugin's info and capabilities again (the same as in the `initialize` result). */
export const GetPluginInfo = defineRequest({
  method: 'plugin/info',
  direction: 'hostToPlugin',
  params: EmptyParams,
  result: PluginInfoResult,
  defaultTimeoutMs: 5_000,
  since: '1.0',
});

/**
 * `$/cancelRequest`, LSP's cancellation notification, valid in both directions: the sender
 * of request `id` gave up on it (deadline passed, caller went away). Not in METHODS: it is
 * part of the JSON-RPC layer (vscode-jsonrpc handles it itself), not a Flow method.
 */
export const CANCEL_REQUEST_METHOD = '$/cancelRequest';

export const CancelParams = z
  .object({ id: z.union([z.number().int(), z.string()]).describe('The id of the request to cancel.') })
  .meta({ id: 'CancelParams' });
export type CancelParams = z.infer<typeof CancelParams>;
