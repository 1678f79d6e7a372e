import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_CONFIG_YAML, parseRssConfig } from './config.js';

const env = {};

function reason(raw: unknown, e: NodeJS.ProcessEnv = env): string {
  try {
    parseRssConfig(raw, e);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('config was accepted');
}

describe('parseRssConfig', () => {
  it('accepts its own default YAML', () => {
    const config = parseRssConfig(parseYaml(DEFAULT_CONFIG_YAML), env);
    expect(config).toEqual({ feeds: [], concurrency: 8, timeoutMs: 20_000, maxBytes: 5 * 1024 * 1024, seenLimit: 200, firstPollItems: 0, summaryLength: 400 });
  });

  it('applies top-level defaults to feeds and keeps per-feed overrides', () => {
    const config = parseRssConfig(
      {
        interval: '30m',
        priority: 3,
        feeds: ['https://a.example/feed', { url: 'http://b.example/rss#top', title: ' B ', interval: '2h', priority: 8 }],
      },
      env,
    );
    expect(config.feeds).toEqual([
      { url: 'https://a.example/feed', intervalMs: 1_800_000, priority: 3 },
      { url: 'http://b.example/rss', title: 'B', intervalMs: 7_200_000, priority: 8 },
    ]);
  });

  it('rejects bad URLs, other schemes and duplicates with the entry named', () => {
    expect(reason({ feeds: [{ url: 'not a url' }] })).toBe('feeds[0].url: not a valid URL');
    expect(reason({ feeds: ['https://ok.example/', 'ftp://files.example/feed'] })).toBe('feeds[1].url: only http and https URLs are allowed');
    expect(reason({ feeds: ['file:///etc/passwd'] })).toBe('feeds[0].url: only http and https URLs are allowed');
    expect(reason({ feeds: [{ title: 'x' }] })).toBe('feeds[0].url: required');
    expect(reason({ feeds: ['https://a.example/f', 'https://a.example/f#x'] })).toBe('feeds[1].url: duplicates feeds[0]');
    expect(reason({ feeds: [42] })).toBe('feeds[0]: must be a URL or a mapping with url');
    expect(reason({ feeds: 'https://a.example/' })).toBe('feeds: must be a list');
  });

  it('rejects intervals below the minimum, which an operator can lower', () => {
    expect(reason({ interval: '30s' })).toBe('interval: must be at least 1m');
    expect(reason({ feeds: [{ url: 'https://a.example/', interval: '5s' }] })).toBe('feeds[0].interval: must be at least 1m');
    expect(reason({ interval: 'often' })).toBe('interval: not a duration (use e.g. 90s, 10m, 1h)');
    expect(parseRssConfig({ interval: '5s' }, { FLOW_RSS_MIN_INTERVAL: '1s' }).feeds).toEqual([]);
    expect(reason({ interval: '500ms' }, { FLOW_RSS_MIN_INTERVAL: '1s' })).toBe('interval: must be at least 1s');
  });

  it('rejects out-of-range numbers and sizes', () => {
    expect(reason({ concurrency: 0 })).toBe('concurrency: must be between 1 and 64');
    expect(reason({ concurrency: 2.5 })).toBe('concurrency: must be a whole number');
    expect(reason({ priority: 11 })).toBe('priority: must be between 0 and 10');
    expect(reason({ max_size: 'huge' })).toBe('max_size: not a size (use e.g. 512KB, 5MB)');
    expect(reason({ max_size: '1GB' })).toBe('max_size: must be between 1KB and 64MB');
    expect(reason({ timeout: '10m' })).toBe('timeout: must be at most 5m');
    expect(reason(['a'])).toBe('the configuration must be a mapping of keys to values');
  });
});
