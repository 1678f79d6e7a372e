import { Level } from 'level';
import { FlowError } from '../../errors.js';

/** Opens the LevelDB handle of `dir`; a second process on the same data dir gets FLOW_ERR_STORE_LOCKED, said plainly. */
export async function openLevel(dir: string): Promise<Level<string, string>> {
  const level = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  try {
    await level.open();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if ((err as { code?: string }).code === 'LEVEL_LOCKED' || cause?.code === 'LEVEL_LOCKED') {
      throw new FlowError(
        'FLOW_ERR_STORE_LOCKED',
        `data dir is in use: ${dir} is locked by another Flow process; stop it or choose another datadir`,
        { cause: err },
      );
    }
    throw err;
  }
  return level;
}
