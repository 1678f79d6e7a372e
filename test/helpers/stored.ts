/**
 * What a test server's database physically holds after bulk deletes, whatever the backend:
 * LevelDB keys (a message is its record and two index keys) or PostgreSQL rows.
 */
import type { FlowApp } from '@flow/server';

type AnyStore = FlowApp['store'];
interface LevelLike {
  db: { level: { keys(o?: object): { all(): Promise<string[]> } } };
}
interface PgLike {
  db: { query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };
}

const idOf = (key: string) => Number(key.slice(key.lastIndexOf('!') + 1));

/**
 * Ids of the stored messages (of one application when given), ascending. On LevelDB each must
 * also have both index keys, and no index key may be left without its record.
 */
export async function storedMessageIds(store: AnyStore, appId?: number): Promise<number[]> {
  if (store.backend === 'postgres') {
    const { rows } = await (store as unknown as PgLike).db.query(
      `SELECT id::int AS id FROM messages ${appId === undefined ? '' : 'WHERE app_id = $1'} ORDER BY id`,
      appId === undefined ? [] : [appId],
    );
    return rows.map((r) => r.id as number);
  }
  const keys = await (store as unknown as LevelLike).db.level.keys().all();
  const records = keys.filter((k) => k.startsWith('m!')).map(idOf);
  const byApp = keys.filter((k) => k.startsWith('a-m!'));
  const byUser = keys.filter((k) => k.startsWith('u-m!'));
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  if (JSON.stringify(sorted(byApp.map(idOf))) !== JSON.stringify(sorted(records)) || JSON.stringify(sorted(byUser.map(idOf))) !== JSON.stringify(sorted(records))) {
    throw new Error(`message records and index keys disagree: ${records.length} records, ${byApp.length} a-m!, ${byUser.length} u-m!`);
  }
  if (appId === undefined) return sorted(records);
  const prefix = `a-m!${String(appId).padStart(16, '0')}!`;
  return sorted(byApp.filter((k) => k.startsWith(prefix)).map(idOf));
}

/** Pending purge marks (0 once every bulk delete is finished). */
export async function storedPurgeMarks(store: AnyStore): Promise<number> {
  if (store.backend === 'postgres') {
    const { rows } = await (store as unknown as PgLike).db.query('SELECT count(*)::int AS n FROM purge_marks');
    return rows[0]!.n as number;
  }
  return (await (store as unknown as LevelLike).db.level.keys().all()).filter((k) => k.startsWith('m-purge!')).length;
}
