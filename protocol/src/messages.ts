import { z } from 'zod';
import { defineNotification, defineRequest } from './define.js';
import { InstanceId, Message } from './common.js';

export const SendMessageParams = z
  .object({
    instanceId: InstanceId,
    message: z.string().min(1).describe('The message text (markdown when extras say so).'),
    title: z.string().optional().describe('Defaults to the name of the plugin\'s application.'),
    priority: z.number().int().optional().describe('Defaults to the application\'s default priority.'),
    extras: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Gotify extras: "client::display" {contentType: "text/markdown"}, "client::notification" {click: {url}}, ...'),
  })
  .meta({ id: 'SendMessageParams' });
export type SendMessageParams = z.infer<typeof SendMessageParams>;

export const SendMessageResult = z.object({ id: z.number().int().positive() }).meta({ id: 'SendMessageResult' });
export type SendMessageResult = z.infer<typeof SendMessageResult>;

/**
 * Sends a message as the instance's own application. It is stored and streamed like one
 * posted to `POST /message`, and the result carries its id only once it is durable.
 */
export const MessageSend = defineRequest({
  method: 'message/send',
  direction: 'pluginToHost',
  params: SendMessageParams,
  result: SendMessageResult,
  capability: 'messenger',
  defaultTimeoutMs: 10_000,
  since: '1.0',
});

export const MessageReceivedParams = z
  .object({ instanceId: InstanceId, message: Message })
  .meta({ id: 'MessageReceivedParams' });
export type MessageReceivedParams = z.infer<typeof MessageReceivedParams>;

/**
 * A new message of the instance's user (from any application except the instance's own),
 * for forwarding and bridge plugins. Sent to enabled `subscriber` instances only; a
 * notification, so a slow subscriber never delays delivery to anyone else.
 */
export const MessageReceived = defineNotification({
  method: 'message/received',
  direction: 'hostToPlugin',
  params: MessageReceivedParams,
  capability: 'subscriber',
  since: '1.0',
});
