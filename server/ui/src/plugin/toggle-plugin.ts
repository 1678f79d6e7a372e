import { errorMessage } from '../common/api';
import { notify } from '../common/notify';
import type { Plugin } from '../common/types';
import { setPluginEnabled } from './plugins';

/** Flips a plugin on or off, then tells the user and refreshes the list (the status changes too). */
export async function togglePlugin(plugin: Plugin, enabled: boolean, reload: () => Promise<void>): Promise<void> {
  try {
    await setPluginEnabled(plugin.id, enabled);
    notify.info(enabled ? 'Plugin enabled' : 'Plugin disabled');
  } catch (err) {
    notify.error(errorMessage(err));
  }
  await reload();
}
