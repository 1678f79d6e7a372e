import { describe, expect, it } from 'vitest';
import { parseConfigYaml } from './config-yaml.js';

// Spec §7.6: how a host turns configuration text into JSON (YAML 1.2 core schema).
describe('parseConfigYaml', () => {
  const ok = (text: string) => {
    const r = parseConfigYaml(text);
    if (!r.ok) throw new Error(`refused: ${r.issue.message}`);
    return r.value;
  };
  const refused = (text: string) => {
    const r = parseConfigYaml(text);
    if (r.ok) throw new Error(`accepted: ${JSON.stringify(r.value)}`);
    return r.issue.message;
  };

  it('reads the empty document and comments-only text as {}', () => {
    expect(ok('')).toEqual({});
    expect(ok('# nothing\r\n# here\r\n')).toEqual({});
  });

  it('uses the core schema: yes/on are strings, 0o is octal, ~ is null, CRLF is fine', () => {
    expect(ok('a: yes\r\nb: on\r\nc: 0o17\r\nd: 0x1F\r\ne: ~\r\nf: 1.5e3\r\ng: "007"\r\n')).toEqual({ a: 'yes', b: 'on', c: 15, d: 31, e: null, f: 1500, g: '007' });
  });

  it('turns scalar keys into their JSON text and refuses keys that collide or are collections', () => {
    expect(ok('1: a\ntrue: b\nnull: c\n')).toEqual({ '1': 'a', true: 'b', null: 'c' });
    expect(refused('1: a\n"1": b\n')).toMatch(/the key "1" appears twice/);
    expect(refused('? [a]\n: 1\n')).toMatch(/a list cannot be a key/);
  });

  it('has no merge keys: << is an ordinary key', () => {
    expect(ok('<<: {a: 1}\n')).toEqual({ '<<': { a: 1 } });
  });

  it('resolves aliases', () => {
    expect(ok('x: &a {b: 1}\ny: *a\n')).toEqual({ x: { b: 1 }, y: { b: 1 } });
  });

  it('refuses syntax errors, duplicate keys and unknown tags with a one-line message', () => {
    for (const text of ['a: [1', 'a: 1\na: 2\n', 'a: !custom 1\n']) {
      const message = refused(text);
      expect(message).toMatch(/^invalid YAML: /);
      expect(message).not.toContain('\n');
    }
  });

  it('refuses a top level that is not a mapping', () => {
    expect(refused('- a\n- b\n')).toMatch(/must be a YAML mapping.*not a list/);
    expect(refused('hello\n')).toMatch(/not a single string/);
    expect(refused('42\n')).toMatch(/not a number/);
  });

  it('refuses values JSON cannot hold, naming where', () => {
    expect(refused('a:\n  b: .inf\n')).toMatch(/^\/a\/b: .*no JSON form/);
    expect(refused('a: .nan\n')).toMatch(/no JSON form/);
    expect(refused('a: 9007199254740993\n')).toMatch(/beyond ±\(2\^53−1\)/);
    expect(refused('a: !!binary aGk=\n')).toMatch(/binary value has no JSON form/);
    expect(ok('a: 9007199254740991\n')).toEqual({ a: 9007199254740991 });
  });
});
