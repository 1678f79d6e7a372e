import { describe, expect, it } from 'vitest';
import { mergeConfig } from './config.js';

describe('mergeConfig', () => {
  const defaults = { magic: 'hello', nested: { a: 1, b: 2 }, list: [1, 2] };

  it('keeps defaults for missing top-level keys', () => {
    expect(mergeConfig(defaults, { magic: 'hi' })).toEqual({ magic: 'hi', nested: { a: 1, b: 2 }, list: [1, 2] });
  });

  it('replaces a present key whole, mappings and lists included (spec §7.6)', () => {
    expect(mergeConfig(defaults, { nested: { b: 3 }, list: [9] })).toEqual({ magic: 'hello', nested: { b: 3 }, list: [9] });
  });

  it('treats an empty document as all defaults, without sharing the defaults object', () => {
    const merged = mergeConfig(defaults, null) as typeof defaults;
    expect(merged).toEqual(defaults);
    merged.nested.a = 5;
    expect(defaults.nested.a).toBe(1);
  });

  it('passes unknown keys through for the plugin to ignore or reject', () => {
    expect(mergeConfig({ a: 1 }, { b: 2 })).toEqual({ a: 1, b: 2 });
  });

  it('refuses a scalar or a list where the default is a mapping', () => {
    expect(() => mergeConfig(defaults, 'just text')).toThrow('config must be a mapping of keys to values, not a single string');
    expect(() => mergeConfig(defaults, [1])).toThrow('not a list');
  });

  it('takes the user value as is when the default is not a mapping', () => {
    expect(mergeConfig(['a'], ['b'])).toEqual(['b']);
  });
});
