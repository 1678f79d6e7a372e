import { ErrorCodes, type WebhookRequestParams, type WebhookResponse } from '@flow/protocol';
import { RpcError } from './connection.js';
import type { WebhookReply, WebhookRequest } from './instance.js';

/** The handler's view of a `webhook/request`: bytes decoded, query parsed. */
export function webhookRequest(params: WebhookRequestParams): WebhookRequest {
  const body = Buffer.from(params.body, 'base64');
  return {
    method: params.method,
    path: params.path,
    rawQuery: params.query,
    query: new URLSearchParams(params.query),
    headers: params.headers,
    body,
    remoteAddress: params.remoteAddress,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}

/**
 * The wire form of a handler's reply: status defaults to 200; a string body is sent as
 * text/plain, bytes as application/octet-stream and anything else as JSON, unless the handler
 * set a content-type; the body travels as base64.
 */
export function encodeReply(reply: WebhookReply | undefined): WebhookResponse {
  const status = reply?.status ?? 200;
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new RpcError(ErrorCodes.PluginError, `handleWebhook returned status ${String(status)}; use an integer from 100 to 599`);
  const headers: Record<string, string | string[]> = { ...(reply?.headers ?? {}) };
  const hasType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
  const body = reply?.body;
  let bytes: Buffer | undefined;
  let type: string | undefined;
  if (body === undefined || body === null) bytes = undefined;
  else if (typeof body === 'string') [bytes, type] = [Buffer.from(body, 'utf8'), 'text/plain; charset=utf-8'];
  else if (body instanceof Uint8Array) [bytes, type] = [Buffer.from(body.buffer, body.byteOffset, body.byteLength), 'application/octet-stream'];
  else [bytes, type] = [Buffer.from(JSON.stringify(body), 'utf8'), 'application/json'];
  if (type && !hasType) headers['content-type'] = type;
  const result: WebhookResponse = { status };
  if (Object.keys(headers).length > 0) result.headers = headers;
  if (bytes) result.body = bytes.toString('base64');
  return result;
}
