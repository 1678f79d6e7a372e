import { request } from '../common/api';
import { streamUrl } from '../common/base-url';
import { Store } from '../common/store';
import type { Message } from '../common/types';

export type StreamState = 'off' | 'connecting' | 'connected' | 'reconnecting';

/** Whether new messages arrive live; the header shows a banner while it is not `connected`. */
export const streamState = new Store<StreamState>('off');

const messageListeners = new Set<(message: Message) => void>();
const reconnectListeners = new Set<() => void>();

let socket: WebSocket | null = null;
/** Identifies the session the stream belongs to (it authenticates with the session cookie). */
let token: string | null = null;
let attempt = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

/** New messages of the logged-in user, from the API and from plugins alike. */
export function onStreamMessage(listener: (message: Message) => void): () => void {
  messageListeners.add(listener);
  return () => messageListeners.delete(listener);
}

/** Called when the stream is back after a drop: messages sent meanwhile were missed and must be re-fetched. */
export function onStreamReconnect(listener: () => void): () => void {
  reconnectListeners.add(listener);
  return () => reconnectListeners.delete(listener);
}

/**
 * Reconnect delay: exponential from 0.5 s up to 30 s, with jitter so that a restarted server is not hit by
 * every open browser at the same instant.
 */
function backoff(n: number): number {
  const ceiling = Math.min(30_000, 500 * 2 ** n);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function connect(): void {
  if (!token) return;
  const ws = new WebSocket(streamUrl());
  socket = ws;
  ws.onopen = () => {
    const wasReconnect = attempt > 0;
    attempt = 0;
    streamState.set('connected');
    if (wasReconnect) for (const listener of [...reconnectListeners]) listener();
  };
  ws.onmessage = (event) => {
    let message: Message;
    try {
      message = JSON.parse(String(event.data)) as Message;
    } catch {
      return;
    }
    for (const listener of [...messageListeners]) listener(message);
  };
  ws.onclose = () => {
    if (socket !== ws || !token) return;
    socket = null;
    streamState.set('reconnecting');
    // A refused upgrade looks like any other drop to a browser. Ask the API: if the token is no longer
    // valid it answers 401 and the session logs out, which stops the stream.
    void request('GET', 'current/user').catch(() => {});
    retryTimer = setTimeout(connect, backoff(attempt++));
  };
}

/** Opens the stream for a session (any key naming it). Calling it again with the same key does nothing. */
export function startStream(sessionKey: string): void {
  if (token === sessionKey && socket) return;
  stopStream();
  token = sessionKey;
  attempt = 0;
  streamState.set('connecting');
  connect();
}

/** Closes the stream and cancels any pending reconnect. Safe to call when already stopped. */
export function stopStream(): void {
  token = null;
  clearTimeout(retryTimer);
  const ws = socket;
  socket = null;
  ws?.close();
  streamState.set('off');
}
