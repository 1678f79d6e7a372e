/**
 * Error codes that cross the wire in a JSON-RPC error response.
 *
 * JSON-RPC reserves -32768..-32000; we use its standard codes for malformed traffic and
 * LSP's -32800 for cancellation (vscode-jsonrpc already speaks it), and Flow's own block
 * 1000..1099 for everything the protocol defines. The taxonomy exists so a host can tell
 * "the plugin said no" (PluginError, InvalidConfig) from "the plugin never answered"
 * (Timeout, TransportClosed) and fail closed on the second kind: see
 * mattermost/mattermost#36414 for what happens when the two look the same.
 */
export const ErrorCodes = {
  /** The bytes were not valid JSON. No id can be read, so the response has `id: null`. */
  ParseError: -32700,
  /** Valid JSON, but not a JSON-RPC 2.0 request (no `jsonrpc: "2.0"`, no method, ...). */
  InvalidRequest: -32600,
  /** The method is unknown to the receiver. Capability-gated methods answer NotSupported instead. */
  MethodNotFound: -32601,
  /** The params do not match the method's schema; `data.issues` lists the problems. */
  InvalidParams: -32602,
  /** A bug in the receiver itself (not in plugin code it runs: that is PluginError). */
  InternalError: -32603,
  /** The request was cancelled with `$/cancelRequest` before it finished (LSP's RequestCancelled). */
  RequestCancelled: -32800,

  /** The plugin's own code failed; `message` is its error text, shown to users as is. */
  PluginError: 1000,
  /** The request's deadline passed (`data.timeoutMs`). The host raises it locally; a plugin may too. */
  Timeout: 1001,
  /** No instance with this `instanceId` exists (never created, or destroyed). */
  UnknownInstance: 1002,
  /** The receiver does not implement this capability (e.g. `display/get` on a non-displayer). */
  NotSupported: 1003,
  /** The connection closed before the response arrived (process exited, pipe broke). Host-local. */
  TransportClosed: 1004,
  /** No common protocol version; `data` is `{ hostVersions, pluginVersions }`. */
  IncompatibleVersion: 1005,
  /** A request other than `initialize` arrived before the handshake finished. */
  NotInitialized: 1006,
  /** `config/validateAndSet` rejected the configuration; `message` is the short reason for the user. */
  InvalidConfig: 1007,
  /** A storage write would exceed the instance's quota; `data` is `{ limitBytes, usedBytes }`. */
  QuotaExceeded: 1008,
  /** A request arrived after `shutdown`. */
  ShuttingDown: 1009,
  /** A frame's Content-Length is over the receiver's limit (`data.limitBytes`); the frame was skipped. */
  FrameTooLarge: 1010,
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Name of an error code, for logs and readable diffs ("PluginError (1000)"). */
export function errorCodeName(code: number): string {
  for (const [name, value] of Object.entries(ErrorCodes)) if (value === code) return name;
  return `code ${code}`;
}
