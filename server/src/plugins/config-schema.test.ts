import { describe, expect, it } from 'vitest';
import { adoptConfigSchema, checkConfig } from './config-schema.js';

const schema = adoptConfigSchema(
  {
    protocolVersion: '1.1',
    configSchema: { type: 'object', properties: { interval: { type: 'integer', minimum: 1 }, tags: { type: 'array' } } },
  },
  new Set(['configurer']),
)!;

describe('checkConfig', () => {
  it('accepts a conforming text and refuses one the schema rejects, naming the field', () => {
    expect(checkConfig(schema, 'interval: 5\n')).toEqual({ ok: true, value: { interval: 5 } });
    const refused = checkConfig(schema, 'interval: 0\n');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.refusal.issues?.[0]?.path).toBe('/interval');
  });

  it('gives every instance with the same text the same answer, frozen so no caller can change it for the others', () => {
    const first = checkConfig(schema, 'interval: 7\ntags: [a, b]\n');
    const second = checkConfig(schema, 'interval: 7\ntags: [a, b]\n');
    expect(second).toBe(first);
    if (!first.ok) throw new Error('expected ok');
    expect(() => {
      (first.value.tags as string[]).push('c');
    }).toThrow(TypeError);
    expect(checkConfig(schema, 'interval: 7\ntags: [a, b]\n')).toEqual({ ok: true, value: { interval: 7, tags: ['a', 'b'] } });
  });

  it('answers by schema: the same text under another schema is checked again', () => {
    const other = adoptConfigSchema({ protocolVersion: '1.1', configSchema: { type: 'object', required: ['url'] } }, new Set(['configurer']))!;
    expect(checkConfig(schema, 'interval: 9\n').ok).toBe(true);
    expect(checkConfig(other, 'interval: 9\n').ok).toBe(false);
    expect(checkConfig(undefined, 'interval: 9\n').ok).toBe(true);
  });

  it('stays correct past the number of texts it remembers, and for texts too large to remember', () => {
    for (let i = 1; i <= 600; i++) expect(checkConfig(schema, `interval: ${i}\n`)).toEqual({ ok: true, value: { interval: i } });
    const large = `interval: 3\n# ${'x'.repeat(10_000)}\n`;
    const a = checkConfig(schema, large);
    expect(a).toEqual({ ok: true, value: { interval: 3 } });
    expect(checkConfig(schema, large)).not.toBe(a);
    expect(checkConfig(schema, 'interval: -1\n').ok).toBe(false);
  });
});
