import type { PluginConfRecord } from '../../model/plugin-conf.js';
import type { PluginSupervisor } from '../supervisor.js';

/** Who is calling: checked by host-calls.ts before any handler runs. */
export interface HostCallContext {
  sup: PluginSupervisor;
  /** The instance's conf; its id is the instance id. */
  conf: PluginConfRecord;
}
