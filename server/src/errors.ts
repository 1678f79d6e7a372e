import { STATUS_CODES } from 'node:http';

/**
 * The one error model of the server. Every failure is a FlowError: a stable code
 * `FLOW_ERR_<AREA>_<WHAT>` (the kind: callers and tests branch on `err.code`, never on the
 * text), a message, and optional data. Services, stores and the plugin host throw it; it is
 * mapped once at each edge: to Gotify's HTTP error body in http/error-body.ts (status from
 * `httpStatusOf`, the message only when `expose`), and to a JSON-RPC error for a plugin in
 * plugins/host-calls.ts.
 */
export type FlowErrorCode =
  | 'FLOW_ERR_CONFIG_INVALID'
  | 'FLOW_ERR_STORE_LOCKED'
  | 'FLOW_ERR_STORE_CLOSED'
  | 'FLOW_ERR_STORE_UNAVAILABLE'
  | 'FLOW_ERR_STORE_CONFLICT'
  // Cluster: this replica no longer holds the lease a write was fenced with (cluster/lease.ts).
  | 'FLOW_ERR_LEASE_LOST'
  | 'FLOW_ERR_NOT_FOUND'
  // Requests: what the caller sent or may do.
  | 'FLOW_ERR_BAD_REQUEST'
  | 'FLOW_ERR_UNAUTHORIZED'
  | 'FLOW_ERR_FORBIDDEN'
  | 'FLOW_ERR_TOO_LARGE'
  | 'FLOW_ERR_INTERNAL'
  // Plugin host: "the plugin said no" is REJECTED, the others mean it never answered properly.
  | 'FLOW_ERR_PLUGIN_REJECTED'
  | 'FLOW_ERR_PLUGIN_TIMEOUT'
  | 'FLOW_ERR_PLUGIN_CLOSED'
  | 'FLOW_ERR_PLUGIN_NOT_RUNNING'
  | 'FLOW_ERR_PLUGIN_BAD_RESPONSE';

/** The HTTP status of each kind; and whether its message is for the caller by default. */
const HTTP: Record<FlowErrorCode, [status: number, expose: boolean]> = {
  FLOW_ERR_CONFIG_INVALID: [500, false],
  FLOW_ERR_STORE_LOCKED: [500, false],
  FLOW_ERR_STORE_CLOSED: [500, false],
  FLOW_ERR_STORE_UNAVAILABLE: [503, true],
  FLOW_ERR_STORE_CONFLICT: [400, true],
  FLOW_ERR_LEASE_LOST: [503, false],
  FLOW_ERR_NOT_FOUND: [404, true],
  FLOW_ERR_BAD_REQUEST: [400, true],
  FLOW_ERR_UNAUTHORIZED: [401, true],
  FLOW_ERR_FORBIDDEN: [403, true],
  FLOW_ERR_TOO_LARGE: [413, true],
  FLOW_ERR_INTERNAL: [500, false],
  FLOW_ERR_PLUGIN_REJECTED: [500, true],
  FLOW_ERR_PLUGIN_TIMEOUT: [504, true],
  FLOW_ERR_PLUGIN_CLOSED: [503, true],
  FLOW_ERR_PLUGIN_NOT_RUNNING: [503, true],
  FLOW_ERR_PLUGIN_BAD_RESPONSE: [502, true],
};

export class FlowError extends Error {
  readonly code: FlowErrorCode;
  /** Whatever the kind carries besides its text (a plugin error's wire code, a validation's issues). */
  readonly data: unknown;
  /** Whether `message` may reach the caller; unexposed errors are answered generically and logged. */
  readonly expose: boolean;
  /** Extra members of the HTTP error body beside Gotify's three (e.g. `issues` of a config refused by its schema); sent only when exposed. */
  readonly details: Record<string, unknown> | undefined;
  constructor(code: FlowErrorCode, message: string, options?: { cause?: unknown; data?: unknown; expose?: boolean; details?: Record<string, unknown> }) {
    super(message, options);
    this.name = 'FlowError';
    this.code = code;
    this.data = options?.data;
    this.details = options?.details;
    this.expose = options?.expose ?? HTTP[code][1];
  }

  /** The HTTP status of this error at the HTTP edge. */
  get status(): number {
    return HTTP[this.code][0];
  }
}

const CODE_OF_STATUS: Record<number, FlowErrorCode> = {
  400: 'FLOW_ERR_BAD_REQUEST',
  401: 'FLOW_ERR_UNAUTHORIZED',
  403: 'FLOW_ERR_FORBIDDEN',
  404: 'FLOW_ERR_NOT_FOUND',
  413: 'FLOW_ERR_TOO_LARGE',
  502: 'FLOW_ERR_PLUGIN_BAD_RESPONSE',
  503: 'FLOW_ERR_PLUGIN_NOT_RUNNING',
  504: 'FLOW_ERR_PLUGIN_TIMEOUT',
};

/**
 * A FlowError named by its HTTP status, for code that thinks in statuses (middleware,
 * routes). The same type as every other error; only the constructor differs.
 */
export class HttpError extends FlowError {
  private readonly httpStatus: number;
  constructor(status: number, message: string, options?: { expose?: boolean; cause?: unknown; details?: Record<string, unknown> }) {
    super(CODE_OF_STATUS[status] ?? (status < 500 ? 'FLOW_ERR_BAD_REQUEST' : 'FLOW_ERR_INTERNAL'), message, { ...options, expose: options?.expose ?? status < 500 });
    this.name = 'HttpError';
    this.httpStatus = status;
  }

  /** The status it was built with (e.g. 429), which its kind alone may not say. */
  override get status(): number {
    return this.httpStatus;
  }
}

/** The Gotify error body: `{"error":"<status text>","errorCode":<status>,"errorDescription":"<message>"}`. */
export interface ErrorBody {
  error: string;
  errorCode: number;
  errorDescription: string;
}

export function errorBody(status: number, description: string): ErrorBody {
  return { error: STATUS_CODES[status] ?? 'Unknown Error', errorCode: status, errorDescription: description };
}

// Helpers with Gotify's wording; route modules and services share them.
export const badRequest = (msg: string): FlowError => new FlowError('FLOW_ERR_BAD_REQUEST', msg);
export const unauthorized = (msg = 'you need to provide a valid access token or user credentials to access this api'): FlowError =>
  new FlowError('FLOW_ERR_UNAUTHORIZED', msg);
export const forbidden = (msg = 'you are not allowed to access this api'): FlowError => new FlowError('FLOW_ERR_FORBIDDEN', msg);
export const notFound = (msg: string): FlowError => new FlowError('FLOW_ERR_NOT_FOUND', msg);
/** `key` names the config key that sets the limit, so the text says what to raise. */
export const payloadTooLarge = (limit: number, key = 'limits.bodybytes'): FlowError =>
  new FlowError('FLOW_ERR_TOO_LARGE', `request body too large: the limit is ${limit} bytes (${key})`);
