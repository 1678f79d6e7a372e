import type { ApplicationRecord } from '../model/application.js';
import type { ClientRecord } from '../model/client.js';
import type { MessageRecord } from '../model/message.js';
import type { PluginConfRecord } from '../model/plugin-conf.js';
import type { PluginPermission } from '../model/plugin-permission.js';
import type { UserRecord } from '../model/user.js';
import type { IdEntity, Store } from '../store/store.js';

/** What a copy carried, per kind; the target is checked to hold exactly these. */
export interface CopyCounts {
  users: number;
  clients: number;
  applications: number;
  messages: number;
  pluginConfs: number;
  pluginStorage: number;
  pluginKv: number;
  pluginPermissions: number;
}

export const emptyCounts = (): CopyCounts => ({ users: 0, clients: 0, applications: 0, messages: 0, pluginConfs: 0, pluginStorage: 0, pluginKv: 0, pluginPermissions: 0 });

/** A target being filled: records keep their ids; `finish` sets the sequences, checks the counts and makes it all visible at once. */
export interface CopyTarget {
  users(recs: UserRecord[]): Promise<void>;
  clients(recs: ClientRecord[]): Promise<void>;
  applications(recs: ApplicationRecord[]): Promise<void>;
  pluginConf(rec: PluginConfRecord, storage: Buffer, kv: Record<string, unknown>): Promise<void>;
  pluginPermissions(list: { modulePath: string; permission: PluginPermission }[]): Promise<void>;
  messages(recs: MessageRecord[]): Promise<void>;
  finish(lastIds: Record<IdEntity, number>, expected: CopyCounts): Promise<void>;
  /** Drops whatever was written (after a failure). */
  abandon(): Promise<void>;
}

const MESSAGE_PAGE = 2000;

/**
 * Copies every record of `from` into `to`, in dependency order, keeping ids, tokens, hashes and
 * dates; messages that a pending bulk delete covers are not copied (they are deleted). Sequences
 * move to the source's, so no id is ever handed out twice.
 */
export async function copyStore(from: Store, to: CopyTarget, progress?: (line: string) => void): Promise<CopyCounts> {
  const counts = emptyCounts();
  try {
    const users = from.users.list();
    await to.users(users);
    counts.users = users.length;
    const clients = users.flatMap((u) => from.clients.listByUser(u.id));
    await to.clients(clients);
    counts.clients = clients.length;
    const apps = from.applications.all().sort((a, b) => a.id - b.id);
    await to.applications(apps);
    counts.applications = apps.length;
    for (const conf of from.pluginConfs.list()) {
      const [storage, kv] = await Promise.all([from.pluginConfs.getStorage(conf.id), from.pluginConfs.kvList(conf.id)]);
      await to.pluginConf(conf, storage, kv);
      counts.pluginConfs++;
      if (storage.length > 0) counts.pluginStorage++;
      counts.pluginKv += Object.keys(kv).length;
    }
    const permissions = from.pluginPermissions.list();
    await to.pluginPermissions(permissions);
    counts.pluginPermissions = permissions.length;
    let after = 0;
    let nextProgress = 100_000;
    for (;;) {
      const { messages, next } = await from.messages.page(after, MESSAGE_PAGE);
      if (messages.length > 0) await to.messages(messages);
      counts.messages += messages.length;
      if (counts.messages >= nextProgress) {
        progress?.(`${counts.messages} messages`);
        nextProgress += 100_000;
      }
      if (next === undefined) break;
      after = next;
    }
    await to.finish(await from.lastIds(), counts);
    return counts;
  } catch (err) {
    await to.abandon();
    throw err;
  }
}

/** One line per kind where the target differs from what was copied; empty when they agree. */
export function countMismatches(expected: CopyCounts, actual: CopyCounts): string[] {
  return (Object.keys(expected) as (keyof CopyCounts)[]).filter((k) => expected[k] !== actual[k]).map((k) => `${k}: copied ${expected[k]}, target holds ${actual[k]}`);
}
