/**
 * @flow/protocol: the Flow plugin protocol v1, the only place the wire contract is defined.
 *
 * Every symbol exported here is public API for the server, plugin-kit and plugin authors:
 * add exports by name, never with `export *`.
 */

// Versions and negotiation
export { PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, negotiateVersion, parseVersion, versionAtLeast } from './version.js';
export type { ParsedVersion } from './version.js';

// Error codes
export { ErrorCodes, errorCodeName } from './errors.js';
export type { ErrorCode } from './errors.js';
export { ERROR_DATA, FrameTooLargeData, IncompatibleVersionData, InvalidParamsData, QuotaExceededData, TimeoutData, UnknownInstanceData } from './error-data.js';

// Limits
export { DEFAULT_MAX_FRAME_BYTES, DEFAULT_STORAGE_QUOTA_BYTES, DEFAULT_WEBHOOK_BODY_BYTES } from './limits.js';

// Wire framing and vscode-jsonrpc stream transport
export { FrameDecoder, FramingError, checkMessageShape, encodeFrame, encodeFrameString } from './framing.js';
export type { FrameDecoderHandlers, FrameDecoderOptions, WireId } from './framing.js';
export { FramedMessageReader, FramedMessageWriter, createStreamTransport } from './transport.js';
export type { FramedReaderOptions, StreamTransport } from './transport.js';

// Method definitions machinery
export { defineNotification, defineRequest } from './define.js';
export type { Direction, MethodDefinition, NotificationDefinition, ParamsOf, RequestDefinition, ResultOf } from './define.js';
export { METHODS, methodByName } from './methods.js';

// Shared shapes
export { CAPABILITIES, Capability, isCapability } from './capabilities.js';
export { Base64, EmptyParams, EmptyResult, InstanceId, InstanceParams, Message, PluginInfo, UserContext } from './common.js';

// Lifecycle
export { CANCEL_REQUEST_METHOD, CancelParams, Exit, GetPluginInfo, HostLimits, Initialize, InitializeParams, InitializeResult, Initialized, Ping, PluginInfoResult, Shutdown } from './lifecycle.js';

// Instances
export { InstanceCreate, InstanceCreateParams, InstanceDestroy, InstanceDisable, InstanceEnable } from './instances.js';

// Configuration
export { ConfigDefault, ConfigValidateAndSet, ConfigValue, DefaultConfigResult, ValidateAndSetConfigParams } from './config.js';
export { CONFIG_YAML_SCHEMA, parseConfigYaml, type ConfigYamlIssue } from './config-yaml.js';

// Display
export { DisplayGet, DisplayParams, DisplayResult, Location } from './display.js';

// Webhooks
export { WebhookRequest, WebhookRequestParams, WebhookResponse } from './webhooks.js';

// Messages
export { MessageReceived, MessageReceivedParams, MessageSend, SendMessageParams, SendMessageResult } from './messages.js';

// Storage
export {
  KV_LIST_MAX_PAGE,
  KvCompareAndSet,
  KvCompareAndSetParams,
  KvCompareAndSetResult,
  KvDelete,
  KvIncrement,
  KvIncrementParams,
  KvIncrementResult,
  KvDeleteResult,
  KvGet,
  KvGetResult,
  KvKeyParams,
  KvList,
  KvListParams,
  KvListResult,
  KvSet,
  KvSetParams,
  StorageKey,
  StorageLoad,
  StorageLoadResult,
  StorageSave,
  StorageSaveParams,
} from './storage.js';

// Logging
export { LOG_LEVELS, LogLevel, LogParams, LogWrite } from './log.js';

// Transcripts (record and replay; spec/transcripts.md)
export { Bindings, DEFAULT_VOLATILE_RULES, Normaliser, TRANSCRIPT_FORMAT, TranscriptError, TranscriptRecorder, deepEqual, formatEntry, isMessageEntry, parseTranscript, placeholderFor, scalarLeaves } from './transcript.js';
export type { Difference, ExitEntry, MessageContext, MessageEntry, RecorderOptions, Redaction, StdinClosedEntry, Transcript, TranscriptDirection, TranscriptEntry, TranscriptHeader, VolatileRule, WireMessage } from './transcript.js';
