/**
 * The payloads of channel `flow_changes`: ids only, never content.
 * - `u|c|a|p:<id>/<origin>`: a user, client, application or plugin conf was inserted, changed or
 *   deleted (raised by the triggers of store/pg/migrations.ts, version 5, in the writing transaction);
 * - `r:1/<origin>`: the plugin permission rules changed (version 6; the table has no ids: all are read again);
 * - `m:<message id>:<user id>[,<message id>:<user id>…]/<origin>`: messages a replica stored, sent
 *   by it after they committed (`messagesPayloads`), in id order per user.
 * `<origin>` is the writer's application_name (`flow/<replica id>` for a Flow server).
 */
export const CHANNEL = 'flow_changes';

export type CachedEntity = 'user' | 'client' | 'application' | 'pluginConf' | 'pluginPermissions';

export type Change =
  | { kind: 'message'; id: number; userId: number; origin: string }
  | { kind: 'entity'; entity: CachedEntity; id: number; origin: string };

/** What a payload announces: several messages, or one entity change. */
export type Announcement = { kind: 'messages'; messages: { id: number; userId: number }[]; origin: string } | Extract<Change, { kind: 'entity' }>;

/** NOTIFY takes up to 8,000 bytes; a payload stays below this. */
const MAX_PAYLOAD_BYTES = 7_900;

const isId = (n: number) => Number.isSafeInteger(n) && n > 0;

/** The payloads announcing `messages` from `origin`: as few as fit under NOTIFY's limit, in order. */
export function messagesPayloads(messages: readonly { id: number; userId: number }[], origin: string): string[] {
  const out: string[] = [];
  const room = MAX_PAYLOAD_BYTES - Buffer.byteLength(origin) - 3;
  let items: string[] = [];
  let size = 0;
  for (const m of messages) {
    const item = `${m.id}:${m.userId}`;
    if (items.length > 0 && size + item.length + 1 > room) {
      out.push(`m:${items.join(',')}/${origin}`);
      items = [];
      size = 0;
    }
    items.push(item);
    size += item.length + 1;
  }
  if (items.length > 0) out.push(`m:${items.join(',')}/${origin}`);
  return out;
}

const ENTITIES: Record<string, CachedEntity> = { u: 'user', c: 'client', a: 'application', p: 'pluginConf', r: 'pluginPermissions' };

/** What a payload announces, or undefined for one this version does not know (ignored). */
export function parseChange(payload: string): Announcement | undefined {
  const slash = payload.indexOf('/');
  if (slash < 0) return undefined;
  const origin = payload.slice(slash + 1);
  const head = payload.slice(0, slash);
  if (head.startsWith('m:')) {
    const messages: { id: number; userId: number }[] = [];
    for (const item of head.slice(2).split(',')) {
      const [a, b, extra] = item.split(':');
      const id = Number(a);
      const userId = Number(b);
      if (extra !== undefined || !isId(id) || !isId(userId)) return undefined;
      messages.push({ id, userId });
    }
    return { kind: 'messages', messages, origin };
  }
  const [kind, a, extra] = head.split(':');
  const id = Number(a);
  const entity = kind === undefined ? undefined : ENTITIES[kind];
  return entity && extra === undefined && isId(id) ? { kind: 'entity', entity, id, origin } : undefined;
}
