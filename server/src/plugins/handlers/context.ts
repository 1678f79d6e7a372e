import type { PluginConfRecord } from '../../model/plugin-conf.js';
import type { WriteFence } from '../../store/message.js';
import type { PluginSession } from '../session.js';

/** Who is calling: checked by host-calls.ts before any handler runs. */
export interface HostCallContext {
  session: PluginSession;
  /** The instance's conf; its id is the instance id. */
  conf: PluginConfRecord;
  /** With replicas: the instance's lease, checked in the transaction of every write done for it (undefined: LevelDB). */
  fence?: WriteFence;
}
