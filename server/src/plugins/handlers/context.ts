import type { PluginConfRecord } from '../../model/plugin-conf.js';
import type { PluginSession } from '../session.js';

/** Who is calling: checked by host-calls.ts before any handler runs. */
export interface HostCallContext {
  session: PluginSession;
  /** The instance's conf; its id is the instance id. */
  conf: PluginConfRecord;
}
