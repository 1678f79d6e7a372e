import { apiUrl } from './base-url';
import type { ErrorBody } from './types';

/**
 * A failed API call. `message` is what the user reads: Gotify's `error: errorDescription`
 * (e.g. "Bad Request: plugin is disabled"), or a sentence about the network when the server is unreachable.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly description?: string,
    /** The parsed JSON error body, for fields beyond Gotify's three (a rejected config's `issues`). */
    readonly body?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RequestOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as multipart/form-data (image upload); the browser writes the boundary. */
  form?: FormData;
  /** Sent as is, with `contentType`. */
  text?: string;
  contentType?: string;
  /** HTTP Basic credentials instead of the session cookie. */
  basic?: { username: string; password: string };
  /** Read the body as text instead of JSON (the YAML config). */
  asText?: boolean;
}

let signedIn = false;
let onUnauthorized: () => void = () => {};

/**
 * Whether the browser holds a session: calls then authenticate with the HttpOnly session cookie
 * (set by POST /auth/local/login; script never sees the token), and a 401 means it ended.
 */
export function setSignedIn(on: boolean): void {
  signedIn = on;
}

/** Called once when a session-authenticated call answers 401: the session was deleted, expired or the user removed. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

function encodeBasic(username: string, password: string): string {
  // btoa only takes Latin-1; user names and passwords may be any Unicode.
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (typeof body.error === 'string') {
      const description = typeof body.errorDescription === 'string' ? body.errorDescription : '';
      return new ApiError(
        response.status,
        description ? `${body.error}: ${description}` : body.error,
        description,
        body as Record<string, unknown>,
      );
    }
  } catch {
    // Not Gotify's JSON error body (a proxy's HTML page, say): fall back to the status line.
  }
  const status = `${response.status} ${response.statusText}`.trim();
  // A short plain-text reason helps; an HTML error page would only show its markup.
  const plain = text.trim() !== '' && text.length < 200 && !/^\s*</.test(text);
  return new ApiError(response.status, plain ? `${status}: ${text.trim()}` : status);
}

/** Calls the API relative to the UI's base URL and returns the parsed body (`undefined` for an empty one). */
export async function request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | FormData | undefined;
  if (options.form) {
    body = options.form;
  } else if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.text !== undefined) {
    headers['Content-Type'] = options.contentType ?? 'text/plain';
    body = options.text;
  }
  if (options.basic) headers.Authorization = encodeBasic(options.basic.username, options.basic.password);

  let response: Response;
  try {
    response = await fetch(apiUrl(path), { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'Network error: the Flow server cannot be reached. Check that it is running.');
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !options.basic && signedIn) onUnauthorized();
    throw error;
  }
  const text = await response.text();
  if (options.asText) return text as T;
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(response.status, `The server sent a response that is not JSON for ${method} ${path}.`);
  }
}

/** The message to show for anything thrown by a call. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
