import {
  ErrorCodes,
  KvCompareAndSet,
  KvDelete,
  KvGet,
  KvIncrement,
  KvList,
  KvSet,
  LogParams,
  LogWrite,
  MessageSend,
  StorageLoad,
  StorageSave,
  methodByName,
  versionAtLeast,
  type RequestDefinition,
} from '@flow/protocol';
import { ResponseError } from 'vscode-jsonrpc/node';
import { FlowError } from '../errors.js';
import type { HostCallContext } from './handlers/context.js';
import { kvCompareAndSet, kvDelete, kvGet, kvIncrement, kvList, kvSet } from './handlers/kv.js';
import { logWrite } from './handlers/log-write.js';
import { DROPPED_LOG_LINES } from './log-budget.js';
import { messageSend } from './handlers/message-send.js';
import { storageLoad, storageSave } from './handlers/storage.js';
import { OWNS_EVERYTHING, type ConfLookup, type InstanceOwnership, type MessageSink } from './ports.js';
import type { PluginSession } from './session.js';
import type { PluginStorage } from './storage.js';

export interface HostCallDeps {
  confs: ConfLookup;
  storage: PluginStorage;
  messages: MessageSink;
  /** Which instances this replica may act for; every one when absent (LevelDB). */
  ownership?: InstanceOwnership;
}

type Handler = (ctx: HostCallContext, params: never) => Promise<unknown>;

/** Methods whose answers can be megabytes (the storage quota): see StdinBacklog.largeAnswer. */
const LARGE_ANSWERS = new Set<string>([StorageLoad.method, KvGet.method, KvList.method]);

/**
 * Plugin → host requests. Every call passes the same gate before its handler runs:
 * 1. a method the negotiated version defines in this direction (a 1.1 method on a 1.0
 *    connection is unknown there, spec §14), else MethodNotFound;
 * 2. params valid against the protocol schema, else InvalidParams with the issues;
 * 3. the instance exists on this very process, else UnknownInstance (a plugin can never
 *    touch another plugin's or a destroyed instance's data);
 * 4. the capability was declared at the handshake, else NotSupported;
 * 5. with replicas: this replica still holds the instance's lease, else UnknownInstance (a
 *    replica paused past its lease must not send the messages or write the storage of an
 *    instance another replica now runs; see cluster/plugin-leases.ts on why the check is safe).
 * Handlers then use the same services as HTTP. With replicas every write they do carries the
 * instance's fence (`ctx.fence`) into its transaction: one the database refuses because the
 * lease moved on after step 5 (the replica paused in between) writes nothing, answers
 * UnknownInstance as step 5 would have, and the instance is stopped on this replica.
 */
export class HostCalls {
  private readonly handlers: Map<string, Handler>;

  constructor(private readonly deps: HostCallDeps) {
    const { storage, messages } = deps;
    this.handlers = new Map<string, Handler>([
      [MessageSend.method, (ctx, p) => messageSend(ctx, p, messages)],
      [StorageLoad.method, (ctx, p) => storageLoad(ctx, p, storage)],
      [StorageSave.method, (ctx, p) => storageSave(ctx, p, storage)],
      [KvGet.method, (ctx, p) => kvGet(ctx, p, storage)],
      [KvSet.method, (ctx, p) => kvSet(ctx, p, storage)],
      [KvDelete.method, (ctx, p) => kvDelete(ctx, p, storage)],
      [KvList.method, (ctx, p) => kvList(ctx, p, storage)],
      [KvCompareAndSet.method, (ctx, p) => kvCompareAndSet(ctx, p, storage)],
      [KvIncrement.method, (ctx, p) => kvIncrement(ctx, p, storage)],
    ]);
  }

  async request(session: PluginSession, method: string, params: unknown): Promise<unknown> {
    const def = methodByName(method);
    const handler = this.handlers.get(method);
    if (!def || def.kind !== 'request' || def.direction !== 'pluginToHost' || !handler || !versionAtLeast(session.protocolVersion, def.since)) {
      throw new ResponseError(ErrorCodes.MethodNotFound, `unknown method ${method}`);
    }
    const parsed = (def as RequestDefinition).params.safeParse(params ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.map((key) => (typeof key === 'number' ? key : String(key))), message: i.message }));
      throw new ResponseError(ErrorCodes.InvalidParams, `invalid params for ${method}: ${issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`, { issues });
    }
    const instanceId = (parsed.data as { instanceId: string }).instanceId;
    const conf = /^\d+$/.test(instanceId) ? this.deps.confs.get(Number(instanceId)) : undefined;
    if (!session.instances.has(instanceId) || !conf || conf.modulePath !== session.info?.modulePath) {
      throw new ResponseError(ErrorCodes.UnknownInstance, `no instance ${instanceId} on this plugin`);
    }
    const ownership = this.deps.ownership ?? OWNS_EVERYTHING;
    if (!ownership.holds(conf.id)) {
      throw new ResponseError(ErrorCodes.UnknownInstance, `instance ${instanceId} now runs on another Flow replica`);
    }
    if (def.capability && !session.capabilities.has(def.capability)) {
      throw new ResponseError(ErrorCodes.NotSupported, `${method} needs the "${def.capability}" capability; declare it in the initialize result`);
    }
    const fence = ownership.fence(conf.id);
    try {
      const run = () => handler({ session, conf, fence }, parsed.data as never);
      return await (LARGE_ANSWERS.has(method) ? session.largeAnswer(run) : run());
    } catch (err) {
      if (err instanceof ResponseError) throw err;
      if (fence && err instanceof FlowError && err.code === 'FLOW_ERR_LEASE_LOST') {
        ownership.forfeit(conf.id, fence);
        throw new ResponseError(ErrorCodes.UnknownInstance, `instance ${instanceId} now runs on another Flow replica; nothing was written`, { instanceId });
      }
      // The plugin edge of the error model: a service's error (e.g. 404 "application does not
      // exist") reaches the plugin as its text; anything unexposed is logged here, once.
      const exposed = err instanceof FlowError && err.expose;
      if (!exposed) session.log.error({ err, method }, 'plugin call failed in the host');
      const message = exposed ? err.message : 'internal server error';
      throw new ResponseError(ErrorCodes.PluginError, message);
    }
  }

  notification(session: PluginSession, method: string, params: unknown): void {
    if (method !== LogWrite.method) return;
    const parsed = LogParams.safeParse(params);
    if (parsed.success) logWrite(session, parsed.data);
    // Spends the same budget as valid lines: a loop of bad log/write must not flood the log either.
    else if (session.logBudget.take((dropped) => session.log.warn({ fromPlugin: true, dropped }, DROPPED_LOG_LINES))) session.log.warn({ method }, 'plugin sent log/write with invalid params; dropped');
  }
}
