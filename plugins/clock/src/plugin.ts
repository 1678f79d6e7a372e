import { definePlugin, PluginInstance, type InstanceContext, type PluginHandlers } from '@flow/plugin-kit';
import type { Cron } from 'croner';
import { defaultConfigYaml, nextRuns, parseSchedules, startJob, type Schedule } from './schedule.js';

/** The timers of one enabled period; replaced whole on every config change. */
interface Running {
  jobs: Cron[];
  /** Aborted on disable, reschedule, destroy or shutdown: a tick already under way checks it before sending. */
  controller: AbortController;
  lastSent: Map<number, Date>;
}

/**
 * One clock per user. Timers exist only between enable and disable; ticks run against a
 * signal tied to both that period and the instance's own signal, so a late tick of a
 * disabled or destroyed instance sends nothing.
 */
class Clock extends PluginInstance<unknown> implements PluginHandlers<unknown> {
  private schedules: Schedule[] = [];
  private running: Running | undefined;

  constructor(ctx: InstanceContext) {
    super(ctx);
    this.ctx.signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  defaultConfig(): string {
    return defaultConfigYaml();
  }

  validateAndSetConfig(config: unknown): void {
    // parseSchedules throws before anything changes, so a rejected config keeps the old timers.
    this.schedules = parseSchedules(config);
    if (this.running !== undefined) {
      this.stop();
      this.start();
    }
  }

  enable(): void {
    this.stop();
    this.start();
  }

  disable(): void {
    this.stop();
  }

  getDisplay(): string {
    if (this.schedules.length === 0) return 'No schedules yet: add entries under `schedules` in the configuration.';
    const state = this.running === undefined ? '**Disabled**: nothing is sent. Next runs once enabled:' : '**Enabled**:';
    const rows = this.schedules.map((s, i) => {
      const next = nextRuns(s, 1)[0];
      const last = this.running?.lastSent.get(i);
      return `| ${i} | \`${s.cron.replace(/`/g, '')}\`${s.timezone ? ` (${cell(s.timezone)})` : ''} | ${cell(s.title ?? '')} | ${cell(s.text)} | ${next ? formatTime(next, s.timezone) : 'never'} | ${last ? formatTime(last, s.timezone) : ''} |`;
    });
    return [state, '', '| # | Cron | Title | Text | Next run | Last sent |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
  }

  private start(): void {
    if (this.ctx.signal.aborted) return;
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, this.ctx.signal]);
    const running: Running = { jobs: [], controller, lastSent: new Map() };
    running.jobs = this.schedules.map((schedule, index) =>
      startJob(schedule, async () => {
        if (signal.aborted) return;
        try {
          // Left out, title and priority fall back to the application's (undefined is not sent).
          await this.ctx.send({ message: schedule.text, title: schedule.title, priority: schedule.priority });
          running.lastSent.set(index, new Date());
        } catch (error) {
          if (!signal.aborted) this.ctx.log.error('could not send scheduled message', { schedule: index, error: String(error) });
        }
      }),
    );
    this.running = running;
    this.ctx.log.info('schedules started', { count: running.jobs.length });
  }

  /** Safe to call twice. */
  private stop(): void {
    const running = this.running;
    if (running === undefined) return;
    this.running = undefined;
    running.controller.abort();
    for (const job of running.jobs) job.stop();
  }
}

/** A table cell: user text with markdown punctuation escaped, so a `|` or a link cannot break out. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}

function formatTime(date: Date, timezone: string | undefined): string {
  if (timezone === undefined) return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  // sv-SE formats as "2026-04-02 10:00:00", the same shape as the UTC branch.
  return `${date.toLocaleString('sv-SE', { timeZone: timezone })} ${timezone}`;
}

export const plugin = definePlugin({
  info: {
    name: 'clock',
    modulePath: 'github.com/flow/plugins/clock',
    version: '1.0.0',
    description: 'Sends messages on cron schedules from its configuration.',
  },
  instance: Clock,
  uses: ['messenger'],
});
