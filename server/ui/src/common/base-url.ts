/**
 * The URL the UI is served from, always ending in `/`.
 *
 * Every API call and the stream are resolved against it rather than against `/`, so Flow works behind a
 * reverse proxy that mounts it under a sub-path (`https://example.org/flow/`). Routing lives in the hash,
 * so the path part of the page URL is always the UI's base.
 */
export function baseUrl(): string {
  return new URL('.', document.baseURI).href;
}

/** Absolute URL of an API path such as `plugin/3/config`. */
export function apiUrl(path: string): string {
  return new URL(path.replace(/^\//, ''), baseUrl()).href;
}

/** The websocket URL of `/stream`; the browser sends the session cookie with the upgrade. */
export function streamUrl(): string {
  const url = new URL('stream', baseUrl());
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}
