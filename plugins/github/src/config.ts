import { ConfigError } from '@flow/plugin-kit';
import type { PriorityKey } from './events.js';

export interface GithubConfig {
  /** The webhook secret pasted into GitHub; "" until the user sets one (every delivery is then refused). */
  secret: string;
  priorities: Record<PriorityKey, number>;
}

/** A failed run (failure, timed_out, startup_failure) is the one event worth waking someone for. */
export const DEFAULT_PRIORITIES: Readonly<Record<PriorityKey, number>> = Object.freeze({
  ping: 1,
  push: 4,
  pull_request: 5,
  issues: 5,
  issue_comment: 4,
  release: 6,
  workflow_run: 3,
  workflow_run_failure: 8,
});

/** Long enough that it cannot be guessed; `openssl rand -hex 20` gives 40 characters. */
const MIN_SECRET_LENGTH = 16;

/** The default configuration as YAML, with comments: this is the text the user edits. */
export function defaultConfigYaml(): string {
  const priorities = Object.entries(DEFAULT_PRIORITIES)
    .map(([key, value]) => `  ${key}: ${value}`)
    .join('\n');
  return [
    '# The secret you paste into GitHub (Settings → Webhooks → Secret), at least 16 characters,',
    '# e.g. the output of `openssl rand -hex 20`. Deliveries are refused (401) while it is empty.',
    'secret: ""',
    '# Message priority per event (0-10). workflow_run_failure is used for failed, timed-out',
    '# and never-started runs, workflow_run for every other conclusion.',
    'priorities:',
    priorities,
    '',
  ].join('\n');
}

/**
 * Checks a parsed configuration; throws ConfigError with a short reason. Priorities missing
 * from `priorities` keep their defaults here too, not only through the kit's merge, so that
 * `parseConfig({})` is the default configuration.
 */
export function parseConfig(raw: unknown): GithubConfig {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('the configuration must be a YAML mapping');
  const { secret, priorities } = raw as Record<string, unknown>;
  if (secret !== undefined && secret !== null && typeof secret !== 'string') throw new ConfigError('secret must be a string (quote it)');
  const s = secret ?? '';
  if (s !== '' && s.length < MIN_SECRET_LENGTH) throw new ConfigError(`secret must be at least ${MIN_SECRET_LENGTH} characters`);
  if (s !== s.trim()) throw new ConfigError('secret must not start or end with spaces');

  const merged: Record<PriorityKey, number> = { ...DEFAULT_PRIORITIES };
  if (priorities !== undefined && priorities !== null) {
    if (typeof priorities !== 'object' || Array.isArray(priorities)) throw new ConfigError('priorities must be a mapping of event to priority');
    for (const [key, value] of Object.entries(priorities)) {
      if (!(key in DEFAULT_PRIORITIES)) throw new ConfigError(`priorities.${key}: unknown event (known: ${Object.keys(DEFAULT_PRIORITIES).join(', ')})`);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 10) {
        throw new ConfigError(`priorities.${key} must be a whole number from 0 to 10`);
      }
      merged[key as PriorityKey] = value;
    }
  }
  return { secret: s, priorities: merged };
}
