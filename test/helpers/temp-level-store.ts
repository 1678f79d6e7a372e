import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LevelStore } from '../../server/src/store/level/level-store.js';

/**
 * A LevelDB store in a fresh temporary data dir, for the unit tests beside the source (they
 * import the same `LevelStore` from `server/src`). `removeTempLevelStore` closes it and deletes the dir.
 */
export async function openTempLevelStore(prefix: string): Promise<{ dir: string; store: LevelStore }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, store: await LevelStore.open(dir) };
}

export async function removeTempLevelStore(store: LevelStore, dir: string): Promise<void> {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
