import { STATUS_CODES } from 'node:http';

/**
 * Local (non-HTTP) failures carry a stable string code `FLOW_ERR_<AREA>_<WHAT>`, so callers
 * and tests can branch on `err.code` instead of parsing messages.
 */
export type FlowErrorCode =
  | 'FLOW_ERR_CONFIG_INVALID'
  | 'FLOW_ERR_STORE_LOCKED'
  | 'FLOW_ERR_STORE_CLOSED'
  | 'FLOW_ERR_STORE_UNAVAILABLE'
  | 'FLOW_ERR_STORE_CONFLICT'
  | 'FLOW_ERR_NOT_FOUND'
  // Plugin host: "the plugin said no" is REJECTED, the others mean it never answered properly.
  | 'FLOW_ERR_PLUGIN_REJECTED'
  | 'FLOW_ERR_PLUGIN_TIMEOUT'
  | 'FLOW_ERR_PLUGIN_CLOSED'
  | 'FLOW_ERR_PLUGIN_NOT_RUNNING'
  | 'FLOW_ERR_PLUGIN_BAD_RESPONSE';

export class FlowError extends Error {
  readonly code: FlowErrorCode;
  constructor(code: FlowErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlowError';
    this.code = code;
  }
}

/**
 * An error that becomes an HTTP response. `expose` (default: status < 500) decides whether
 * `message` is sent to the caller; unexposed errors are answered with a generic description
 * and logged instead, so internals never leak.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly expose: boolean;
  constructor(status: number, message: string, options?: { expose?: boolean; cause?: unknown }) {
    super(message, options);
    this.name = 'HttpError';
    this.status = status;
    this.expose = options?.expose ?? status < 500;
  }
}

export const isHttpError = (err: unknown): err is HttpError => err instanceof HttpError;

/** The Gotify error body: `{"error":"<status text>","errorCode":<status>,"errorDescription":"<message>"}`. */
export interface ErrorBody {
  error: string;
  errorCode: number;
  errorDescription: string;
}

export function errorBody(status: number, description: string): ErrorBody {
  return { error: STATUS_CODES[status] ?? 'Unknown Error', errorCode: status, errorDescription: description };
}

// Helpers with Gotify's wording; route modules (including the plugin routes) share them.
export const badRequest = (msg: string): HttpError => new HttpError(400, msg);
export const unauthorized = (
  msg = 'you need to provide a valid access token or user credentials to access this api',
): HttpError => new HttpError(401, msg);
export const forbidden = (msg = 'you are not allowed to access this api'): HttpError => new HttpError(403, msg);
export const notFound = (msg: string): HttpError => new HttpError(404, msg);
/** `key` names the config key that sets the limit, so the text says what to raise. */
export const payloadTooLarge = (limit: number, key = 'limits.bodybytes'): HttpError =>
  new HttpError(413, `request body too large: the limit is ${limit} bytes (${key})`);

/** Store failures with a user-facing meaning become 400 (conflict) or 404; anything else is returned unchanged. */
export function mapStoreError(err: unknown): unknown {
  if (err instanceof FlowError) {
    if (err.code === 'FLOW_ERR_STORE_CONFLICT') return badRequest(err.message);
    if (err.code === 'FLOW_ERR_NOT_FOUND') return notFound(err.message);
  }
  return err;
}
