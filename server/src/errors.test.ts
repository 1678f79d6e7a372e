import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorBody } from './errors.js';

describe('FlowErrorCode', () => {
  it('every code in errors.ts is documented in server/README.md, and no other', () => {
    const source = readFileSync(new URL('./errors.ts', import.meta.url), 'utf8');
    const typeBlock = source.slice(source.indexOf('export type FlowErrorCode'), source.indexOf(';', source.indexOf('export type FlowErrorCode')));
    const codes = [...typeBlock.matchAll(/'(FLOW_ERR_[A-Z_]+)'/g)].map((m) => m[1]).sort();
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `(FLOW_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(codes.length).toBeGreaterThan(0);
    expect(documented).toEqual(codes);
  });
});

describe('errorBody', () => {
  it('has Gotify’s three fields with the status text', () => {
    expect(errorBody(404, 'page not found')).toEqual({ error: 'Not Found', errorCode: 404, errorDescription: 'page not found' });
    expect(errorBody(413, 'x').error).toBe('Payload Too Large');
  });
});
