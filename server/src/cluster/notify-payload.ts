/**
 * The payloads of channel `flow_changes` (raised by the triggers of store/pg/migrations.ts,
 * version 5): ids only, never content.
 * - `m:<message id>:<user id>/<origin>`: a message was inserted;
 * - `u|c|a|p:<id>/<origin>`: a user, client, application or plugin conf was inserted, changed or deleted.
 * `<origin>` is the writer's application_name (`flow/<replica id>` for a Flow server).
 */
export const CHANNEL = 'flow_changes';

export type CachedEntity = 'user' | 'client' | 'application' | 'pluginConf';

export type Change =
  | { kind: 'message'; id: number; userId: number; origin: string }
  | { kind: 'entity'; entity: CachedEntity; id: number; origin: string };

const ENTITIES: Record<string, CachedEntity> = { u: 'user', c: 'client', a: 'application', p: 'pluginConf' };

/** The change a payload announces, or undefined for one this version does not know (ignored). */
export function parseChange(payload: string): Change | undefined {
  const slash = payload.indexOf('/');
  if (slash < 0) return undefined;
  const origin = payload.slice(slash + 1);
  const [kind, a, b] = payload.slice(0, slash).split(':');
  const id = Number(a);
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  if (kind === 'm') {
    const userId = Number(b);
    return Number.isSafeInteger(userId) && userId > 0 ? { kind: 'message', id, userId, origin } : undefined;
  }
  const entity = kind === undefined ? undefined : ENTITIES[kind];
  return entity && b === undefined ? { kind: 'entity', entity, id, origin } : undefined;
}
