import { InstanceDestroy, InstanceDisable, MessageReceived } from '@flow/protocol';
import type { EventBus } from '../events.js';
import { toExternalMessage, type MessageRecord } from '../model/message.js';
import type { PluginConfRecord } from '../model/plugin-conf.js';
import type { UserRecord } from '../model/user.js';
import type { Plugin, PluginHost } from '../plugins/host.js';
import type { PluginSession } from '../plugins/session.js';
import type { PluginStorage } from '../plugins/storage.js';
import type { ApplicationService } from './application.js';
import type { PluginInstances, PluginInstancesDeps } from './plugin-instances.js';

export type PluginEventsDeps = Pick<PluginInstancesDeps, 'confs' | 'users' | 'log'> & {
  applications: Pick<ApplicationService, 'get' | 'list' | 'setInternal'>;
  bus: EventBus;
  host: PluginHost;
  instances: PluginInstances;
  storage: PluginStorage;
};

/**
 * What the plugins do when the rest of the server changes: a user added or deleted, a message
 * created (subscribers), a plugin's entry removed (its applications become deletable).
 */
export class PluginEvents {
  private unsubscribe: (() => void)[];

  constructor(private readonly deps: PluginEventsDeps) {
    this.unsubscribe = [
      deps.bus.on('userAdded', ({ user }) => this.userAdded(user)),
      // Created on another replica: the plugins here that it has not got give it their instances.
      deps.bus.on('userFromReplica', ({ user }) => this.userAdded(user)),
      deps.bus.on('userDeleting', ({ user }) => this.userDeleting(user)),
      deps.bus.on('messageCreated', ({ message }) => this.fanOut(message)),
      // Posted on another replica (PostgreSQL): offered here only to the instances this replica runs.
      deps.bus.on('messageFromReplica', ({ message }) => this.fanOut(message)),
    ];
  }

  stop(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
  }

  /** A user was added: give it an instance of every running plugin. Failures are logged, never block the user. */
  private async userAdded(user: UserRecord): Promise<void> {
    await Promise.all(
      this.deps.host.list().map((sup) => {
        const session = sup.session;
        return session?.connected ? this.deps.instances.addUser(session, user) : undefined;
      }),
    );
  }

  /**
   * Before a user is deleted: its instances leave the processes' books at once (plugin calls
   * for them answer UnknownInstance), and `instance/disable` + `instance/destroy` are sent in
   * the background, each bounded by its deadline. Unlike Gotify (whose plugin manager runs
   * inside the user deletion) a plugin can neither veto nor delay the deletion: a failing or
   * hanging plugin is logged and the user goes anyway. The store deletes the confs with the user, so the webhooks answer 404 afterwards.
   */
  private userDeleting(user: UserRecord): void {
    for (const sup of this.deps.host.list()) {
      const modulePath = sup.modulePath;
      const conf = modulePath === undefined ? undefined : this.deps.confs.getByUserAndPath(user.id, modulePath);
      if (!conf) continue;
      this.deps.storage.forget(conf.id);
      const session = sup.session;
      if (!session) continue;
      // Under the instance's lock: a bring-up in flight for it finishes first, then it is taken down.
      void this.deps.instances.withLock(user.id, conf.modulePath, async () => {
        const instanceId = String(conf.id);
        const state = session.instances.get(instanceId);
        if (!state) return;
        session.instances.delete(instanceId);
        session.redactor.setSecrets(instanceId, []);
        try {
          if (state.enabled) await session.call(InstanceDisable, { instanceId });
          await session.call(InstanceDestroy, { instanceId });
        } catch (err) {
          this.deps.log.warn({ plugin: sup.plugin.name, instanceId, reason: session.redactor.redact((err as Error).message) }, 'destroying the instance of a deleted user failed; the user is deleted anyway');
        }
      });
    }
  }

  /**
   * A new message: offer it to the user's enabled subscriber instances, except the one whose
   * application sent it. A notification: a slow subscriber delays nobody.
   */
  private fanOut(message: MessageRecord): void {
    let external: ReturnType<typeof toExternalMessage> | undefined;
    for (const session of this.subscriberSessions()) {
      const conf = this.enabledConf(session, message.userId);
      if (!conf || conf.applicationId === message.appId) continue;
      external ??= toExternalMessage(message);
      session.notify(MessageReceived, { instanceId: String(conf.id), message: external });
    }
  }

  /**
   * The users whose messages a subscriber instance running here wants: the replica feed reads
   * other replicas' messages only for them (and for the users with a stream here).
   */
  readonly subscribedUsers = {
    has: (userId: number): boolean => this.subscriberSessions().some((session) => this.enabledConf(session, userId) !== undefined),
    userIds: (): number[] => {
      const ids = new Set<number>();
      for (const session of this.subscriberSessions()) for (const state of session.instances.values()) if (state.enabled) ids.add(state.userId);
      return [...ids];
    },
  };

  private subscriberSessions(): PluginSession[] {
    return this.deps.host.list().flatMap((sup) => (sup.session?.connected && sup.session.capabilities.has('subscriber') ? [sup.session] : []));
  }

  /** The user's conf of the session's plugin, when its instance runs enabled in this session. */
  private enabledConf(session: PluginSession, userId: number): PluginConfRecord | undefined {
    const conf = this.deps.confs.getByUserAndPath(userId, session.info!.modulePath);
    return conf !== undefined && session.instances.get(String(conf.id))?.enabled === true ? conf : undefined;
  }

  /** A plugin's entry left the folder: its confs stay (dangling), its applications become deletable. */
  async pluginRemoved(sup: Plugin): Promise<void> {
    const modulePath = sup.modulePath;
    if (!modulePath) return;
    for (const conf of this.deps.confs.list()) {
      if (conf.modulePath !== modulePath || conf.applicationId === 0) continue;
      const app = this.deps.applications.get(conf.applicationId);
      if (app?.internal) await this.deps.applications.setInternal(app.id, false).catch(() => undefined);
    }
  }

  /** Internal applications are internal exactly while their plugin is present (as Gotify's start fixes them). */
  async reconcileInternalApps(): Promise<void> {
    const owned = new Map<number, PluginConfRecord>();
    for (const conf of this.deps.confs.list()) if (conf.applicationId !== 0) owned.set(conf.applicationId, conf);
    for (const user of this.deps.users.list()) {
      for (const app of this.deps.applications.list(user.id)) {
        const conf = owned.get(app.id);
        const present = conf !== undefined && this.deps.host.byModulePath(conf.modulePath) !== undefined;
        if (app.internal !== present) await this.deps.applications.setInternal(app.id, present).catch(() => undefined);
      }
    }
  }
}
