import type { MethodDefinition } from './define.js';
import { ConfigDefault, ConfigValidateAndSet } from './config.js';
import { DisplayGet } from './display.js';
import { InstanceCreate, InstanceDestroy, InstanceDisable, InstanceEnable } from './instances.js';
import { Exit, GetPluginInfo, Initialize, Initialized, Ping, Shutdown } from './lifecycle.js';
import { LogWrite } from './log.js';
import { MessageReceived, MessageSend } from './messages.js';
import { KvCompareAndSet, KvDelete, KvGet, KvIncrement, KvList, KvSet, StorageLoad, StorageSave } from './storage.js';
import { WebhookRequest } from './webhooks.js';

/** Every method of protocol 1.x (1.0 and the 1.1 additions, each with its `since`), in the order spec/protocol.md presents them. */
export const METHODS: readonly MethodDefinition[] = [
  Initialize,
  Initialized,
  Shutdown,
  Exit,
  Ping,
  GetPluginInfo,
  InstanceCreate,
  InstanceDestroy,
  InstanceEnable,
  InstanceDisable,
  ConfigDefault,
  ConfigValidateAndSet,
  DisplayGet,
  WebhookRequest,
  MessageReceived,
  MessageSend,
  StorageLoad,
  StorageSave,
  KvGet,
  KvSet,
  KvDelete,
  KvList,
  KvCompareAndSet,
  KvIncrement,
  LogWrite,
];

const byName = new Map(METHODS.map((definition) => [definition.method, definition]));

/** The definition of a method by its wire name, or undefined for a method v1 does not define. */
export function methodByName(method: string): MethodDefinition | undefined {
  return byName.get(method);
}
