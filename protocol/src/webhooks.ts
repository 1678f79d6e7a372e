import { z } from 'zod';
import { defineRequest } from './define.js';
import { Base64, InstanceId } from './common.js';

export const WebhookRequestParams = z
  .object({
    instanceId: InstanceId,
    method: z.string().describe('HTTP method in upper case.'),
    path: z.string().describe('Path relative to the instance\'s webhook base path, starting with "/": "/echo".'),
    query: z.string().describe('Raw query string without the "?", "" when none.'),
    headers: z
      .record(z.string(), z.string())
      .describe('Request headers, names in lower case; repeated headers joined with ", ".'),
    body: Base64.describe('Request body bytes as base64 ("" when empty).'),
    remoteAddress: z.string().optional().describe('Client address as the host saw it.'),
  })
  .meta({ id: 'WebhookRequestParams' });
export type WebhookRequestParams = z.infer<typeof WebhookRequestParams>;

export const WebhookResponse = z
  .object({
    status: z.number().int().min(100).max(599),
    headers: z
      .record(z.string(), z.union([z.string(), z.array(z.string())]))
      .optional()
      .describe('Response headers; an array sends the header once per value (Set-Cookie).'),
    body: Base64.optional().describe('Response body bytes as base64.'),
  })
  .meta({ id: 'WebhookResponse' });
export type WebhookResponse = z.infer<typeof WebhookResponse>;

/**
 * An HTTP request to `<webhookBasePath><path>`, relayed whole. The host answers the client
 * with the plugin's status, headers and body; it answers 504 itself when the deadline
 * passes and 503 when the plugin is not running.
 */
export const WebhookRequest = defineRequest({
  method: 'webhook/request',
  direction: 'hostToPlugin',
  params: WebhookRequestParams,
  result: WebhookResponse,
  capability: 'webhooker',
  defaultTimeoutMs: 15_000,
  since: '1.0',
});
