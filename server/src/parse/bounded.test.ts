import { describe, expect, it } from 'vitest';
import { DocumentTooLarge, MAX_NESTING, jsonDepth, parseJsonBounded, parseYamlBounded, valueDepth, yamlDepth } from './bounded.js';

describe('bounded JSON and YAML parsing', () => {
  it('measures JSON nesting, skipping brackets inside strings', () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[[\\"]]"}]}')).toBe(3);
    expect(jsonDepth('"[[["')).toBe(0);
    expect(parseJsonBounded('{"a":{"b":1}}')).toEqual({ a: { b: 1 } });
  });

  it('refuses deep or large JSON before parsing', () => {
    const deep = '{"a":'.repeat(MAX_NESTING + 1) + '1' + '}'.repeat(MAX_NESTING + 1);
    expect(() => parseJsonBounded(deep)).toThrow(DocumentTooLarge);
    expect(() => parseJsonBounded('[' + '1,'.repeat(100) + '1]', { maxBytes: 50 })).toThrow(/too large/);
    const atLimit = '['.repeat(MAX_NESTING) + ']'.repeat(MAX_NESTING);
    expect(() => parseJsonBounded(atLimit)).not.toThrow();
  });

  it('bounds every YAML nesting form: flow, compact sequences, mapping chains, indentation', () => {
    const n = 100_000;
    for (const text of ['['.repeat(n) + ']'.repeat(n), '{a: '.repeat(n) + '1' + '}'.repeat(n), '- '.repeat(n) + 'x', 'a: '.repeat(n) + 'x', '? '.repeat(n) + 'x']) {
      expect(yamlDepth(text, MAX_NESTING)).toBeGreaterThan(MAX_NESTING);
      expect(() => parseYamlBounded(text)).toThrow(DocumentTooLarge);
    }
    const indented = Array.from({ length: 200 }, (_, i) => ' '.repeat(i) + 'k:').join('\n');
    expect(() => parseYamlBounded(indented)).toThrow(DocumentTooLarge);
  });

  it('accepts real configs and never underestimates their depth', () => {
    const config = [
      '# feeds to poll',
      'interval: 60 # seconds',
      'title: "a [quoted] {string}: - with # signs"',
      "other: 'it''s [fine'",
      'feeds:',
      '  - url: https://example.com/feed?a=1',
      '    tags: [a, b, {c: [d]}]',
      '  - url: http://x',
      'text: |',
      '  line one',
      '    indented',
    ].join('\n');
    const doc = parseYamlBounded(config) as Record<string, any>;
    expect(doc.feeds[0].tags[2].c).toEqual(['d']);
    expect(yamlDepth(config)).toBeGreaterThanOrEqual(valueDepth(doc));
    expect(yamlDepth(config)).toBeLessThan(10);
  });

  it('measures parsed values without recursion', () => {
    let v: unknown = 1;
    for (let i = 0; i < 200_000; i++) v = [v];
    expect(valueDepth(v)).toBeGreaterThan(MAX_NESTING);
    expect(valueDepth({ a: [{ b: 1 }] })).toBe(3);
  });
});
