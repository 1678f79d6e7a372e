import { z } from 'zod';

/** Identifies one plugin instance (one per user) on a connection. Chosen by the host, opaque to the plugin. */
export const InstanceId = z.string().min(1).max(128).describe('Host-chosen id of a plugin instance (one per user). Opaque to the plugin.');

/** Params of every method addressed to one instance. */
export const InstanceParams = z.object({ instanceId: InstanceId }).meta({ id: 'InstanceParams' });
export type InstanceParams = z.infer<typeof InstanceParams>;

/** The params of a method that takes none: `{}`. Senders send `{}`; receivers treat absent params as `{}`. */
export const EmptyParams = z.object({}).meta({ id: 'EmptyParams' });
export type EmptyParams = z.infer<typeof EmptyParams>;

/** The empty result: `{}`. Receivers ignore any fields a newer sender adds. */
export const EmptyResult = z.object({}).meta({ id: 'EmptyResult' });
export type EmptyResult = z.infer<typeof EmptyResult>;

/** Binary data as standard base64 (RFC 4648 §4, with padding). Every byte survives the trip. */
export const Base64 = z.base64().describe('Bytes as standard base64 with padding.');

/** The user an instance belongs to. A snapshot taken at instance creation, as in Gotify. */
export const UserContext = z
  .object({
    id: z.number().int().positive(),
    name: z.string(),
    admin: z.boolean(),
  })
  .meta({ id: 'UserContext' });
export type UserContext = z.infer<typeof UserContext>;

/** Descriptive info of a plugin. `modulePath` identifies it: two plugins with the same one cannot both run. */
export const PluginInfo = z
  .object({
    modulePath: z.string().min(1).max(512).describe('Unique id of the plugin, e.g. "github.com/you/flow-rss".'),
    name: z.string().max(256).optional(),
    version: z.string().max(64).optional(),
    author: z.string().max(256).optional(),
    website: z.string().max(1024).optional(),
    license: z.string().max(128).optional(),
    description: z.string().max(4096).optional(),
  })
  .meta({ id: 'PluginInfo' });
export type PluginInfo = z.infer<typeof PluginInfo>;

/** A message as the host stores and streams it (Gotify's MessageExternal). */
export const Message = z
  .object({
    id: z.number().int().positive(),
    appid: z.number().int().positive(),
    message: z.string(),
    title: z.string(),
    priority: z.number().int(),
    extras: z.record(z.string(), z.unknown()).optional(),
    date: z.string().describe('RFC 3339 date-time.'),
  })
  .meta({ id: 'Message' });
export type Message = z.infer<typeof Message>;
