import type { ConfigKeyDef } from './key-def.js';

/** The `plugins.*` rows of the configuration table (config/keys.ts): the plugin host's limits and timings. */
export const PLUGIN_KEYS = [
  { key: 'plugins.handshaketimeoutms', type: 'int', default: 10_000, min: 100, max: 600_000, description: 'deadline for a plugin to answer initialize after it was spawned' },
  {
    key: 'plugins.startwaitms',
    type: 'int',
    default: 2000,
    min: 0,
    max: 600_000,
    description: 'how long the server waits for plugins to start before it listens anyway; plugins still starting come up in the background (0: do not wait)',
  },
  {
    key: 'plugins.calltimeoutms',
    type: 'int',
    default: 0,
    min: 0,
    max: 3_600_000,
    description: 'deadline of every host-to-plugin call except webhooks; 0 uses the protocol default of each method (5 s display/config/default/ping, 10 s instance and config calls)',
  },
  { key: 'plugins.webhooktimeoutms', type: 'int', default: 0, min: 0, max: 3_600_000, description: 'deadline of a relayed webhook (then 504); 0 uses the protocol default, 15 s' },
  { key: 'plugins.restartbackoffbasems', type: 'int', default: 500, min: 1, max: 600_000, description: 'first delay before restarting a crashed plugin; doubles per crash, with jitter' },
  { key: 'plugins.restartbackoffmaxms', type: 'int', default: 30_000, min: 1, max: 3_600_000, description: 'largest delay between restarts of a crashed plugin' },
  { key: 'plugins.maxrestarts', type: 'int', default: 5, min: 1, max: 1000, description: 'this many crashes within plugins.crashwindowseconds mark a plugin failed until an admin restarts it or its file changes' },
  { key: 'plugins.crashwindowseconds', type: 'int', default: 120, min: 1, max: 86_400, description: 'window in which plugin crashes are counted' },
  { key: 'plugins.stoptimeoutms', type: 'int', default: 2000, min: 10, max: 600_000, description: 'bound of each step of stopping a plugin: shutdown request, stdin close, SIGTERM, then SIGKILL' },
  { key: 'plugins.pingintervalseconds', type: 'int', default: 30, min: 0, max: 86_400, description: 'liveness ping of every plugin; one that does not answer within plugins.pingtimeoutms is restarted; 0 disables' },
  { key: 'plugins.pingtimeoutms', type: 'int', default: 5000, min: 10, max: 600_000, description: 'deadline of the liveness ping' },
  { key: 'plugins.storagequotabytes', type: 'int', default: 4 * 1024 * 1024, min: 1, max: 1024 * 1024 * 1024, description: 'storage per plugin instance: the blob plus all key-value entries' },
  { key: 'plugins.storagemaxkeys', type: 'int', default: 10_000, min: 1, max: 10_000_000, description: 'key-value entries per plugin instance; each also counts 64 bytes against plugins.storagequotabytes' },
  { key: 'plugins.configmaxbytes', type: 'int', default: 64 * 1024, min: 1024, max: 64 * 1024 * 1024, description: "largest plugin config text (a user's POST /plugin/:id/config gets 400, a plugin's config/default answer is refused); it also counts against plugins.storagequotabytes" },
  { key: 'plugins.maxframebytes', type: 'int', default: 8 * 1024 * 1024, min: 1024, max: 1024 * 1024 * 1024, description: 'largest protocol frame a plugin may send' },
  { key: 'plugins.startconcurrency', type: 'int', default: 256, min: 1, max: 100_000, description: 'requests in flight per plugin while creating, configuring and enabling the instances of all users' },
  { key: 'plugins.watch', type: 'bool', default: true, description: 'watch the plugins folder: added, replaced and removed plugins are started, restarted and stopped without a server restart' },
  { key: 'plugins.bundled', type: 'bool', default: true, description: 'also load the plugins shipped with Flow (each disabled per user until enabled), beside pluginsdir' },
  { key: 'plugins.watchdebouncems', type: 'int', default: 300, min: 0, max: 60_000, description: 'quiet period after a change in the plugins folder before it is applied' },
  { key: 'plugins.stderrlines', type: 'int', default: 100, min: 1, max: 10_000, description: 'recent stderr lines kept per plugin for the admin endpoint' },
] as const satisfies readonly ConfigKeyDef[];
