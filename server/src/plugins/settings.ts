import path from 'node:path';
import { Ping, WebhookRequest, type RequestDefinition } from '@flow/protocol';
import type { FlowConfig } from '../config/keys.js';
import { bundledPluginsDir } from '../paths.js';
import type { PluginSettings } from '../services/plugin.js';
import { FLOW_VERSION } from '../version.js';

/** The plugin host's tunables from the `plugins.*` config keys (defaults and meaning in config/keys.ts). */
export function pluginSettings(config: FlowConfig, dirs: { data: string; plugins: string }, serverEnv: NodeJS.ProcessEnv = process.env): PluginSettings {
  const call = config['plugins.calltimeoutms'];
  const webhook = config['plugins.webhooktimeoutms'];
  return {
    dir: dirs.plugins,
    bundledDir: config['plugins.bundled'] ? bundledPluginsDir() : undefined,
    dataDir: dirs.data,
    watch: config['plugins.watch'],
    watchDebounceMs: config['plugins.watchdebouncems'],
    startConcurrency: config['plugins.startconcurrency'],
    storageQuotaBytes: config['plugins.storagequotabytes'],
    storageMaxKeys: config['plugins.storagemaxkeys'],
    configMaxBytes: config['plugins.configmaxbytes'],
    supervisor: {
      handshakeTimeoutMs: config['plugins.handshaketimeoutms'],
      timeoutFor: (def: RequestDefinition) => {
        if (def === WebhookRequest) return webhook > 0 ? webhook : def.defaultTimeoutMs;
        // The ping deadline is the liveness bar itself; a long call timeout must not stretch it.
        if (def === Ping) return config['plugins.pingtimeoutms'];
        return call > 0 ? call : def.defaultTimeoutMs;
      },
      backoffBaseMs: config['plugins.restartbackoffbasems'],
      backoffMaxMs: config['plugins.restartbackoffmaxms'],
      crashLoopCount: config['plugins.maxrestarts'],
      crashLoopWindowMs: config['plugins.crashwindowseconds'] * 1000,
      stopStepMs: config['plugins.stoptimeoutms'],
      pingIntervalMs: config['plugins.pingintervalseconds'] * 1000,
      stderrLines: config['plugins.stderrlines'],
      limits: {
        maxFrameBytes: config['plugins.maxframebytes'],
        storageQuotaBytes: config['plugins.storagequotabytes'],
        webhookBodyBytes: config['limits.bodybytes'],
      },
      hostVersion: FLOW_VERSION,
      serverEnv,
      recordingDir: config['recording.dir'] === '' ? '' : path.resolve(config['recording.dir']),
    },
  };
}
