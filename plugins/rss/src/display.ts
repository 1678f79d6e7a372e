import type { RssConfig } from './config.js';
import { escapeMarkdown } from './format.js';
import type { FeedStatus } from './poller.js';
import { formatDuration } from './units.js';

/** `2026-11-24 14:05:09 UTC`: the plugin cannot know the viewer's time zone. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function statusCell(row: FeedStatus, running: boolean): string {
  if (row.state === 'pending') return running ? 'waiting for first poll' : 'not polled yet';
  if (row.state === 'ok') return 'ok';
  const until = running && row.nextPollAt !== undefined ? ` — backing off until ${formatTime(row.nextPollAt)}` : '';
  const count = row.failures > 1 ? ` (${row.failures} failures in a row)` : '';
  return `error: ${escapeMarkdown(row.error ?? 'unknown')}${count}${until}`;
}

/**
 * The instance's page: one table row per feed with its last poll, status (ok, the error and
 * the backoff deadline) and item counts, so a user can see why a feed is silent.
 */
export function renderDisplay(config: RssConfig, rows: FeedStatus[], running: boolean, now = Date.now()): string {
  const lines: string[] = [];
  if (config.feeds.length === 0) {
    lines.push('No feeds configured yet. Add them to the configuration, for example:', '', '```yaml', 'feeds:', '  - url: https://blog.example.com/feed.xml', '    interval: 30m', '```');
    return lines.join('\n');
  }
  lines.push(
    running
      ? `Polling ${config.feeds.length} feed${config.feeds.length === 1 ? '' : 's'}, up to ${config.concurrency} at a time.`
      : `Not polling: the plugin is disabled. ${config.feeds.length} feed${config.feeds.length === 1 ? '' : 's'} configured.`,
    '',
    '| Feed | Every | Last poll | Status | Items | Sent |',
    '|---|---|---|---|---|---|',
  );
  const intervals = new Map(config.feeds.map((f) => [f.url, f.intervalMs]));
  for (const row of rows) {
    const feed = `[${escapeMarkdown(row.name)}](<${row.url}>)`;
    const every = formatDuration(intervals.get(row.url) ?? 0);
    const last = row.lastPollAt !== undefined ? `${formatTime(row.lastPollAt)} (${formatDuration(Math.max(0, now - row.lastPollAt))} ago)` : '—';
    const items = row.itemCount !== undefined ? String(row.itemCount) : '—';
    lines.push(`| ${feed} | ${every} | ${last} | ${statusCell(row, running)} | ${items} | ${row.sentCount} |`);
  }
  lines.push(
    '',
    '*Items* is the number of entries in the feed at its last fetch; *Sent* counts messages since the plugin was enabled. ' +
      'A feed seen for the first time has its current items marked as read' +
      (config.firstPollItems > 0 ? ` except the newest ${config.firstPollItems}, which are sent.` : '; only later items are sent.'),
  );
  return lines.join('\n');
}
