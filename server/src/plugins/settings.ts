import path from 'node:path';
import { Ping, WebhookRequest, type RequestDefinition } from '@flow/protocol';
import type { FlowConfig } from '../config/keys.js';
import { bundledPluginsDir } from '../paths.js';
import { FLOW_VERSION } from '../version.js';

/** How one plugin process is launched, talked to and stopped (a PluginSession's tunables). */
export interface SessionSettings {
  handshakeTimeoutMs: number;
  /** Deadline of a host → plugin request; the protocol's per-method default unless configured. */
  timeoutFor(def: RequestDefinition): number;
  /** Bound of each step of the stop sequence. */
  stopStepMs: number;
  /** 0 disables the liveness ping. */
  pingIntervalMs: number;
  stderrLines: number;
  limits: { maxFrameBytes: number; storageQuotaBytes: number; webhookBodyBytes: number };
  hostVersion: string;
  serverEnv: NodeJS.ProcessEnv;
  /** `recording.dir`: absolute folder for session transcripts (recorder.ts); "" is off. */
  recordingDir?: string;
}

/** When the supervisor starts the next session after a crash. */
export interface RestartPolicy {
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** This many crashes within `crashLoopWindowMs` mark the plugin failed. */
  crashLoopCount: number;
  crashLoopWindowMs: number;
}

/** The plugin host's tunables, from the `plugins.*` config keys. */
export interface PluginSettings {
  /** Plugins folder and data dir (absolute). */
  dir: string;
  /** The plugins shipped with Flow, when `plugins.bundled` is on. */
  bundledDir?: string;
  dataDir: string;
  watch: boolean;
  /** Quiet period after the last change before rescanning (editors and `cp` write in bursts). */
  watchDebounceMs: number;
  /** Requests in flight per plugin while creating, configuring and enabling instances (pipelined start). */
  startConcurrency: number;
  storageQuotaBytes: number;
  /** Key-value entries per instance (default 10,000). */
  storageMaxKeys?: number;
  /** Largest config text, a user's or a plugin's default (default 64 KiB). */
  configMaxBytes?: number;
  session: SessionSettings;
  restart: RestartPolicy;
}

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
    restart: {
      backoffBaseMs: config['plugins.restartbackoffbasems'],
      backoffMaxMs: config['plugins.restartbackoffmaxms'],
      crashLoopCount: config['plugins.maxrestarts'],
      crashLoopWindowMs: config['plugins.crashwindowseconds'] * 1000,
    },
    session: {
      handshakeTimeoutMs: config['plugins.handshaketimeoutms'],
      timeoutFor: (def: RequestDefinition) => {
        if (def === WebhookRequest) return webhook > 0 ? webhook : def.defaultTimeoutMs;
        // The ping deadline is the liveness bar itself; a long call timeout must not stretch it.
        if (def === Ping) return config['plugins.pingtimeoutms'];
        return call > 0 ? call : def.defaultTimeoutMs;
      },
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
