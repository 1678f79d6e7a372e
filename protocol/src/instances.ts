import { z } from 'zod';
import { defineRequest } from './define.js';
import { EmptyResult, InstanceId, InstanceParams, UserContext } from './common.js';

export const InstanceCreateParams = z
  .object({
    instanceId: InstanceId,
    user: UserContext,
    webhookBasePath: z
      .string()
      .describe('Absolute path under which the host relays this instance\'s webhooks, with a trailing slash: "/plugin/5/custom/P.../". Stable across restarts.'),
  })
  .meta({ id: 'InstanceCreateParams' });
export type InstanceCreateParams = z.infer<typeof InstanceCreateParams>;

/**
 * Creates the instance for one user under a host-chosen id. Called for every user at every
 * plugin start and when a user is added. A new instance is disabled; the host then applies
 * the stored config (configurer) and enables it if the user had it enabled.
 */
export const InstanceCreate = defineRequest({
  method: 'instance/create',
  direction: 'hostToPlugin',
  params: InstanceCreateParams,
  result: EmptyResult,
  defaultTimeoutMs: 10_000,
  since: '1.0',
});

/** Destroys an instance (its user was deleted). Stops its timers; later calls answer UnknownInstance. */
export const InstanceDestroy = defineRequest({
  method: 'instance/destroy',
  direction: 'hostToPlugin',
  params: InstanceParams,
  result: EmptyResult,
  defaultTimeoutMs: 10_000,
  since: '1.0',
});

/** Enables an instance. An error (PluginError) keeps it disabled and its text reaches the user. */
export const InstanceEnable = defineRequest({
  method: 'instance/enable',
  direction: 'hostToPlugin',
  params: InstanceParams,
  result: EmptyResult,
  defaultTimeoutMs: 10_000,
  since: '1.0',
});

/** Disables an instance: it stops sending and its webhooks answer 400 at the host. */
export const InstanceDisable = defineRequest({
  method: 'instance/disable',
  direction: 'hostToPlugin',
  params: InstanceParams,
  result: EmptyResult,
  defaultTimeoutMs: 10_000,
  since: '1.0',
});
