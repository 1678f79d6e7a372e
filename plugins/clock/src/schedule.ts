import { ConfigError } from '@flow/plugin-kit';
import { Cron } from 'croner';

/** One validated entry of the `schedules` list. */
export interface Schedule {
  cron: string;
  text: string;
  title?: string;
  priority?: number;
  /** IANA zone the cron fields are read in; the server's own zone when absent. */
  timezone?: string;
}

/** Bounds how many timers one user can make the plugin run. */
export const MAX_SCHEDULES = 100;

/** The default configuration as YAML with comments: the text the user edits. */
export function defaultConfigYaml(): string {
  return [
    '# Messages to send on a schedule, one entry each:',
    '#   cron:     "minute hour day month weekday", or six fields with seconds first,',
    '#             or a nickname such as @hourly or @daily',
    '#   text:     the message',
    '#   title:    optional; the plugin\'s application name when left out',
    '#   priority: optional, 0-10; the application\'s default when left out',
    '#   timezone: optional IANA zone such as Europe/Berlin; the server\'s zone when left out',
    '# For example:',
    '# schedules:',
    '#   - cron: "45 8 * * 1-5"',
    '#     title: Stand-up',
    '#     text: Stand-up starts in 15 minutes',
    '#     priority: 5',
    'schedules: []',
    '',
  ].join('\n');
}

/** Checks the parsed configuration; a ConfigError names the entry and what is wrong with it. */
export function parseSchedules(raw: unknown): Schedule[] {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('the configuration must be a YAML mapping');
  const list = (raw as Record<string, unknown>).schedules ?? [];
  if (!Array.isArray(list)) throw new ConfigError('schedules must be a list');
  if (list.length > MAX_SCHEDULES) throw new ConfigError(`schedules: at most ${MAX_SCHEDULES} entries`);
  return list.map((entry, index) => parseEntry(entry, `schedules[${index}]`));
}

function parseEntry(entry: unknown, name: string): Schedule {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigError(`${name}: must be a mapping with cron and text`);
  const { cron, priority, timezone } = entry as Record<string, unknown>;
  // YAML reads `text: 42` or `title: 2026` as numbers; they are still the text the user wrote.
  const text = scalarText((entry as Record<string, unknown>).text);
  const title = scalarText((entry as Record<string, unknown>).title);
  if (typeof cron !== 'string' || cron.trim() === '') throw new ConfigError(`${name}: cron is missing`);
  if (text !== undefined && text !== null && typeof text !== 'string') throw new ConfigError(`${name}: text must be text`);
  if (typeof text !== 'string' || text.trim() === '') throw new ConfigError(`${name}: text is missing`);
  if (title !== undefined && title !== null && typeof title !== 'string') throw new ConfigError(`${name}: title must be text`);
  if (priority !== undefined && priority !== null && (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority > 10)) {
    throw new ConfigError(`${name}: priority must be a whole number from 0 to 10`);
  }
  if (timezone !== undefined && timezone !== null && (typeof timezone !== 'string' || timezone === '')) throw new ConfigError(`${name}: timezone must be text`);
  const schedule: Schedule = { cron: cron.trim(), text };
  if (typeof title === 'string') schedule.title = title;
  if (typeof priority === 'number') schedule.priority = priority;
  if (typeof timezone === 'string') schedule.timezone = timezone;
  let next: Date | null;
  try {
    next = nextRuns(schedule, 1)[0] ?? null;
  } catch (error) {
    throw new ConfigError(`${name}: invalid cron "${schedule.cron}"${schedule.timezone ? ` or timezone "${schedule.timezone}"` : ''}: ${shortReason(error)}`);
  }
  if (next === null) throw new ConfigError(`${name}: cron "${schedule.cron}" never fires`);
  return schedule;
}

function scalarText(value: unknown): unknown {
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

/** The next `n` times `schedule` fires (empty when it never does). Throws on an invalid pattern or zone. */
export function nextRuns(schedule: Schedule, n: number): Date[] {
  const job = new Cron(schedule.cron, { paused: true, ...zone(schedule) });
  try {
    return job.nextRuns(n);
  } finally {
    job.stop();
  }
}

/**
 * Starts `schedule`'s timer. `protect` skips a tick while the previous one is still sending,
 * so a slow host never piles up sends; the caller stops the returned job.
 */
export function startJob(schedule: Schedule, onTick: () => Promise<void>): Cron {
  return new Cron(schedule.cron, { protect: true, ...zone(schedule) }, onTick);
}

function zone(schedule: Schedule): { timezone?: string } {
  return schedule.timezone === undefined ? {} : { timezone: schedule.timezone };
}

/** croner's messages start with its class name and can run long: keep the part a user can act on. */
function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = message.replace(/^Cron\w*:\s*/, '').split(/\. Original error|\. Please provide/)[0]!;
  return reason.replace(/\.$/, '').slice(0, 160);
}
