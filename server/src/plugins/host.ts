import { existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { scanPluginsDir, type DiscoveredPlugin } from './discovery.js';
import { PidFile } from './orphans.js';
import { PluginSession, type SessionPorts } from './session.js';
import { DELIBERATE_REFUSAL } from './session-contract.js';
import type { PluginSettings } from './settings.js';
import { PluginSupervisor } from './supervisor.js';

/** A supervisor of real sessions: what the rest of the server sees of a plugin. */
export type Plugin = PluginSupervisor<PluginSession>;

export interface PluginHostOptions {
  /** The plugins folder (absolute). */
  dir: string;
  /**
   * The plugins shipped with Flow (absolute), loaded beside `dir`: its folders with a
   * plugin.yaml whose files exist. An entry of `dir` with the same name, or serving the same
   * module path, takes precedence (a user's own copy of a bundled plugin wins).
   */
  bundledDir?: string;
  /** The data dir: holds plugin-pids.json. */
  dataDir: string;
  log: Logger;
  settings: Pick<PluginSettings, 'session' | 'restart' | 'watch' | 'watchDebounceMs'>;
  /** What sessions need besides the module path registry (the host's own); plus `removed`, after a plugin's entry disappeared. */
  hooks: Omit<SessionPorts, 'claim' | 'notRunning'> & { removed(sup: Plugin): Promise<void> };
}

const DUPLICATE = 'duplicate module path';
const SHADOWED = `${DELIBERATE_REFUSAL} bundled plugin shadowed`;

/**
 * The plugins folder at run time: one supervisor per entry, the module path registry
 * (a module path is served by exactly one entry: the first to claim it), and the watcher
 * that turns added, replaced and removed entries into start, restart and stop.
 */
export class PluginHost {
  private readonly sups = new Map<string, Plugin>();
  /** modulePath → entry name of the supervisor serving it. */
  private readonly owners = new Map<string, string>();
  private readonly pids: PidFile;
  private readonly log: Logger;
  private watchers: FSWatcher[] = [];
  private watchTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();
  private warned = new Map<string, string>();
  /**
   * Bundled entries left out because an entry of the plugins folder serves the same module path
   * (a user's own copy, under another name): bundled entry name → the folder entry's name. They
   * come back when that entry goes away or starts serving another module path.
   */
  private readonly shadowed = new Map<string, string>();
  /** The supervisors the current scan (re)started: their module path claims are ordered by name. */
  private batch = new Set<Plugin>();
  private stopped = false;

  constructor(private readonly opts: PluginHostOptions) {
    this.log = opts.log.child({ component: 'plugins' });
    this.pids = new PidFile(opts.dataDir, this.log);
  }

  /**
   * 1. kill plugin processes a crashed previous run left behind;
   * 2. scan the folder and start every plugin in parallel; resolves when each first attempt
   *    has settled (running, failed or incompatible; crashes restart in the background);
   * 3. watch the folder.
   */
  async start(): Promise<void> {
    await this.pids.killStale();
    await this.rescan();
    if (this.opts.settings.watch && !this.stopped) this.watchDir(this.opts.dir);
  }

  /** Every supervisor, in entry-name order. */
  list(): Plugin[] {
    // Code-unit order, not localeCompare: the first collator use costs tens of milliseconds.
    return [...this.sups.values()].sort((a, b) => (a.plugin.name < b.plugin.name ? -1 : a.plugin.name > b.plugin.name ? 1 : 0));
  }

  byName(name: string): Plugin | undefined {
    return this.sups.get(name);
  }

  /** The supervisor serving `modulePath`, if the plugin is present (whatever its status). */
  byModulePath(modulePath: string): Plugin | undefined {
    const name = this.owners.get(modulePath);
    return name === undefined ? undefined : this.sups.get(name);
  }

  /**
   * Stops every plugin in parallel (each with the bounded stop sequence) and the watcher. Safe to
   * call twice. The server may stop while the first scan still waits for a plugin's handshake
   * (startFlow does not wait for it): the plugins are stopped first, which ends that wait,
   * and again after the scan in case it added one meanwhile.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.watchTimer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    await Promise.all([...this.sups.values()].map((sup) => sup.stop()));
    await this.scanning.catch(() => undefined);
    await Promise.all([...this.sups.values()].map((sup) => sup.stop()));
    this.pids.close();
  }

  /** Reads the folder again and applies the differences; serialised, so bursts of events queue up. */
  rescan(): Promise<void> {
    const run = this.scanning.then(() => this.applyScan());
    this.scanning = run.catch((err) => this.log.error({ err }, 'scanning the plugins folder failed'));
    return run;
  }

  private async applyScan(): Promise<void> {
    if (this.stopped) return;
    const { plugins, skipped } = await scanPluginsDir(this.opts.dir);
    if (this.opts.bundledDir) plugins.push(...(await this.scanBundled(new Set(plugins.map((p) => p.name)))));
    if (this.stopped) return;
    for (const { name, reason } of skipped) {
      // Warn once per entry and reason, not on every rescan.
      if (this.warned.get(name) === reason) continue;
      this.warned.set(name, reason);
      this.log.warn({ entry: name }, `skipping ${name} in the plugins folder: ${reason}`);
    }
    const seen = new Set(plugins.map((p) => p.name));
    const work: Promise<void>[] = [];
    for (const [name, sup] of this.sups) {
      if (!seen.has(name)) work.push(this.remove(sup));
    }
    await Promise.all(work);
    const starts: Promise<void>[] = [];
    this.batch = new Set();
    for (const plugin of plugins) {
      this.warned.delete(plugin.name);
      const sup = this.sups.get(plugin.name);
      if (!sup) starts.push(this.add(plugin));
      else if (sup.plugin.signature !== plugin.signature) {
        this.log.info({ entry: plugin.name }, 'plugin file changed; restarting it');
        this.batch.add(sup);
        starts.push(sup.restart(plugin));
      }
    }
    await Promise.all(starts);
    if (this.opts.settings.watch && !this.stopped) this.watchFolders(plugins);
  }

  /** Bundled plugins not shadowed by an entry of the plugins folder; incomplete ones (not built) are left out quietly. */
  private async scanBundled(taken: Set<string>): Promise<DiscoveredPlugin[]> {
    const { plugins } = await scanPluginsDir(this.opts.bundledDir!).catch(() => ({ plugins: [] as DiscoveredPlugin[] }));
    return plugins
      .filter((p) => p.kind === 'manifest' && !taken.has(p.name) && !this.shadowed.has(p.name))
      .filter((p) => (p.command.includes('/') ? existsSync(p.command) : p.args[0] === undefined || existsSync(path.resolve(p.cwd, p.args[0]))))
      .map((p) => ({ ...p, bundled: true }));
  }

  private async add(plugin: DiscoveredPlugin): Promise<void> {
    const { session: settings, restart } = this.opts.settings;
    const sup: Plugin = new PluginSupervisor(plugin, restart, (deps) => PluginSession.start({ ...deps, settings, pids: this.pids, ports: { ...this.opts.hooks, ...deps.ports, claim: (session) => this.claim(sup, session) } }), this.log);
    this.sups.set(plugin.name, sup);
    this.batch.add(sup);
    this.log.info({ entry: plugin.name }, 'starting plugin');
    await sup.start();
    // A bundled plugin whose module path a folder entry serves was refused in claim(): it is not
    // a plugin of this server, not a failed one.
    if (this.shadowed.has(plugin.name) && this.sups.get(plugin.name) === sup) this.sups.delete(plugin.name);
  }

  /** Leaves `bundled` out for as long as the folder entry `owner` serves its module path; one info line names both. */
  private shadow(bundled: Plugin, owner: Plugin, modulePath: string): void {
    this.shadowed.set(bundled.plugin.name, owner.plugin.name);
    this.log.info(
      { entry: bundled.plugin.name, shadowedBy: owner.plugin.name, modulePath },
      `bundled plugin ${bundled.plugin.path} not loaded: ${owner.plugin.path} in the plugins folder serves the same module path ${modulePath} and is used instead`,
    );
  }

  /** `owner` no longer serves the module path of the bundled entries it shadowed: bring them back. */
  private unshadow(owner: string): void {
    let any = false;
    for (const [bundled, by] of this.shadowed) {
      if (by !== owner) continue;
      this.shadowed.delete(bundled);
      any = true;
    }
    if (any && !this.stopped) void this.rescan();
  }

  private async remove(sup: Plugin): Promise<void> {
    this.log.info({ entry: sup.plugin.name }, 'plugin removed from the folder; stopping it');
    await sup.stop();
    this.sups.delete(sup.plugin.name);
    const mp = sup.modulePath;
    if (mp !== undefined && this.owners.get(mp) === sup.plugin.name) {
      this.owners.delete(mp);
      await this.opts.hooks.removed(sup);
      this.unshadow(sup.plugin.name);
      // A copy that was refused as a duplicate can take over now.
      const waiting = [...this.sups.values()].find((s) => s.status === 'failed' && s.statusReason?.startsWith(DUPLICATE));
      if (waiting) await waiting.restart();
    }
  }

  /**
   * The module path registry: the first entry to claim a module path keeps it, and a later one
   * is refused with a clear error while the first keeps running (Gotify refuses to start at all,
   * gotify/server#510). Plugins started by the same scan claim in entry-name order, as Gotify
   * loads them, so which copy wins does not depend on which process happened to start faster.
   */
  private async claim(sup: Plugin, session: PluginSession): Promise<string | undefined> {
    // Entries of the plugins folder claim before bundled ones, so a user's copy wins.
    const rank = (s: Plugin) => `${s.plugin.bundled ? 1 : 0}${s.plugin.name}`;
    const earlier = [...this.batch].filter((s) => s !== sup && rank(s) < rank(sup));
    await Promise.all(earlier.map((s) => s.claimed));
    const mp = session.info!.modulePath;
    for (const [path, owner] of this.owners) {
      // The entry now reports another module path (its file was replaced): release the old one.
      if (owner === sup.plugin.name && path !== mp) {
        this.owners.delete(path);
        this.unshadow(sup.plugin.name);
      }
    }
    const owner = this.owners.get(mp);
    const ownerSup = owner === undefined || owner === sup.plugin.name ? undefined : this.sups.get(owner);
    if (ownerSup) {
      // A user's copy of a bundled plugin wins cleanly, whichever started first.
      if (sup.plugin.bundled && !ownerSup.plugin.bundled) {
        this.shadow(sup, ownerSup, mp);
        return `${SHADOWED} by ${ownerSup.plugin.path}`;
      }
      if (!sup.plugin.bundled && ownerSup.plugin.bundled) {
        this.shadow(ownerSup, sup, mp);
        this.sups.delete(ownerSup.plugin.name);
        this.owners.delete(mp);
        await ownerSup.stop();
        await this.opts.hooks.removed(ownerSup);
      } else {
        return `${DUPLICATE}: plugin with module path ${mp} is present at least twice; ${sup.plugin.name} was refused and ${owner} keeps running (remove one of them)`;
      }
    }
    this.owners.set(mp, sup.plugin.name);
    return undefined;
  }

  private watchDir(dir: string): FSWatcher | undefined {
    try {
      const w = watch(dir, { persistent: false }, () => this.changed());
      w.on('error', () => {
        // A watched plugin folder that was deleted ends here; the folder watch reports the removal.
        w.close();
        this.watchedFolders.delete(dir);
      });
      this.watchers.push(w);
      return w;
    } catch (err) {
      this.log.warn({ err, dir }, 'cannot watch the folder; plugin changes there need a server restart');
      return undefined;
    }
  }

  /** Folder plugins: their manifest and script live one level down, where the folder watch does not see. */
  private watchedFolders = new Map<string, FSWatcher>();
  private watchFolders(plugins: DiscoveredPlugin[]): void {
    const live = new Set(plugins.filter((p) => p.kind === 'manifest').map((p) => p.path));
    for (const [dir, w] of this.watchedFolders) {
      if (!live.has(dir)) {
        w.close();
        this.watchedFolders.delete(dir);
      }
    }
    for (const dir of live) {
      if (this.watchedFolders.has(dir)) continue;
      const w = this.watchDir(dir);
      if (w) this.watchedFolders.set(dir, w);
    }
  }

  private changed(): void {
    if (this.stopped) return;
    clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(() => void this.rescan(), this.opts.settings.watchDebounceMs);
  }
}
