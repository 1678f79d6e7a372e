import { z } from 'zod';
import { defineRequest } from './define.js';
import { InstanceId } from './common.js';

/** Where the user is looking from, so a plugin can print absolute URLs that work behind a proxy. */
export const Location = z
  .object({
    scheme: z.enum(['http', 'https']),
    host: z.string().describe('Host and optional port as the client sees it (X-Forwarded-Host honoured).'),
    webhookBasePath: z
      .string()
      .describe('Path of this instance\'s webhooks as the client sees it, with any reverse-proxy prefix and a trailing slash.'),
  })
  .meta({ id: 'Location' });
export type Location = z.infer<typeof Location>;

export const DisplayParams = z.object({ instanceId: InstanceId, location: Location }).meta({ id: 'DisplayParams' });
export type DisplayParams = z.infer<typeof DisplayParams>;

export const DisplayResult = z.object({ markdown: z.string() }).meta({ id: 'DisplayResult' });
export type DisplayResult = z.infer<typeof DisplayResult>;

/** Markdown shown on the plugin's page (instructions, status). Asked for on every page view, enabled or not. */
export const DisplayGet = defineRequest({
  method: 'display/get',
  direction: 'hostToPlugin',
  params: DisplayParams,
  result: DisplayResult,
  capability: 'displayer',
  defaultTimeoutMs: 5_000,
  since: '1.0',
});
