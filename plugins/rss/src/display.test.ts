import { describe, expect, it } from 'vitest';
import { parseRssConfig } from './config.js';
import { renderDisplay } from './display.js';

const config = parseRssConfig({ feeds: [{ url: 'https://a.example/feed', interval: '30m' }, 'https://b.example/rss'], concurrency: 4 }, {});
const now = Date.parse('2026-11-24T15:00:00Z');

describe('renderDisplay', () => {
  it('lists feeds with last poll, status, backoff and counts', () => {
    const text = renderDisplay(
      config,
      [
        { url: 'https://a.example/feed', name: 'A | news', state: 'ok', failures: 0, lastPollAt: now - 65_000, itemCount: 20, sentCount: 3 },
        { url: 'https://b.example/rss', name: 'b.example', state: 'error', error: 'HTTP 503', failures: 3, lastPollAt: now - 5000, nextPollAt: now + 3_600_000, sentCount: 0 },
      ],
      true,
      now,
    );
    expect(text).toContain('Polling 2 feeds, up to 4 at a time.');
    expect(text).toContain('| [A \\| news](<https://a.example/feed>) | 30m | 2026-11-24 14:58:55 UTC (1m5s ago) | ok | 20 | 3 |');
    expect(text).toContain(
      '| [b\\.example](<https://b.example/rss>) | 10m | 2026-11-24 14:59:55 UTC (5s ago) | error: HTTP 503 (3 failures in a row) — backing off until 2026-11-24 16:00:00 UTC | — | 0 |',
    );
  });

  it('says when the instance is disabled and when no feed is configured', () => {
    expect(renderDisplay(config, [], false, now)).toContain('Not polling: the plugin is disabled. 2 feeds configured.');
    expect(renderDisplay(parseRssConfig({}, {}), [], true, now)).toContain('No feeds configured yet.');
  });
});
