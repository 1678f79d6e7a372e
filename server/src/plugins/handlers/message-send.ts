import { ErrorCodes, type SendMessageParams, type SendMessageResult } from '@flow/protocol';
import { ResponseError } from 'vscode-jsonrpc/node';
import { MAX_NESTING, valueDepth } from '../../parse/bounded.js';
import type { MessageSink, PluginMessage } from '../ports.js';
import type { HostCallContext } from './context.js';

/**
 * `message/send`: the same path as POST /message for the instance's internal application
 * (title defaults to the application's name, priority to its default priority), so the
 * message is stored, streamed and offered to subscribers; answers once it is durable.
 * As in Gotify, a disabled instance may still send, but never
 * without an application: that would make an unlisted, undeletable message (gotify/server#653).
 */
export async function messageSend(ctx: HostCallContext, params: SendMessageParams, messages: MessageSink): Promise<SendMessageResult> {
  if (ctx.conf.applicationId === 0) {
    throw new ResponseError(ErrorCodes.PluginError, 'plugin messenger has no associated internal application');
  }
  const input: PluginMessage = { message: params.message };
  if (params.title !== undefined) input.title = params.title;
  if (params.priority !== undefined) input.priority = params.priority;
  if (params.extras !== undefined) {
    // As POST /message: deeper extras could not be stored (JSON.stringify recurses per level).
    if (valueDepth(params.extras) > MAX_NESTING) throw new ResponseError(ErrorCodes.InvalidParams, `extras nested too deeply: the limit is ${MAX_NESTING} levels`);
    input.extras = params.extras;
  }
  const message = await messages.createForApplication(ctx.conf.applicationId, input, ctx.fence && { fence: ctx.fence });
  return { id: message.id };
}
