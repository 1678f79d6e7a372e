import { describe, expect, it } from 'vitest';
import { ProtocolChecker } from './protocol-check.js';

/** The checker behind `host.violations` must fail on each kind of wrong message, or the kit's own tests prove nothing. */
describe('ProtocolChecker', () => {
  it('accepts a valid request, notification, result and error', () => {
    const checker = new ProtocolChecker('pluginToHost');
    checker.expectAnswer(1, 'display/get');
    expect(checker.check({ jsonrpc: '2.0', id: 1, result: { markdown: '# hi' } })).toEqual([]);
    expect(checker.check({ jsonrpc: '2.0', id: 9, method: 'kv/get', params: { instanceId: '1', key: 'k' } })).toEqual([]);
    expect(checker.check({ jsonrpc: '2.0', method: 'log/write', params: { level: 'info', message: 'x' } })).toEqual([]);
    expect(checker.check({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'bad' } })).toEqual([]);
    expect(checker.check({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 9 } })).toEqual([]);
    expect(checker.violations).toEqual([]);
  });

  it('reports each kind of wrong message', () => {
    const checker = new ProtocolChecker('pluginToHost');
    checker.expectAnswer(1, 'display/get');
    checker.expectAnswer(2, 'webhook/request');
    const cases: Array<[unknown, RegExp]> = [
      [[1], /not a JSON object/],
      [{ id: 3, result: {} }, /"jsonrpc" is not "2.0"/],
      [{ jsonrpc: '2.0', id: 1, result: { markdown: 5 } }, /display\/get\): result does not match the schema: markdown/],
      [{ jsonrpc: '2.0', id: 2, result: { status: 200, body: 'not base64!' } }, /webhook\/request\): result does not match the schema: body/],
      [{ jsonrpc: '2.0', id: 77, result: {} }, /answers no pending request/],
      [{ jsonrpc: '2.0', id: 4, result: {}, error: { code: 1, message: 'x' } }, /exactly one of result and error/],
      [{ jsonrpc: '2.0', id: 5, error: { code: 'x', message: 'x' } }, /error must be/],
      [{ jsonrpc: '2.0', id: 5, error: { code: 1005, message: 'no common version' } }, /error data of code 1005 does not match the schema/],
      [{ jsonrpc: '2.0', id: 5, error: { code: 1002, message: 'x', data: { instanceId: 5 } } }, /error data of code 1002 .*instanceId/],
      [{ jsonrpc: '2.0', id: 6, method: 'instance/enable', params: { instanceId: '1' } }, /instance\/enable is sent hostToPlugin, not pluginToHost/],
      [{ jsonrpc: '2.0', id: 7, method: 'log/write', params: { level: 'info', message: 'x' } }, /log\/write is a notification/],
      [{ jsonrpc: '2.0', id: 8, method: 'kv/set', params: { instanceId: '1', key: '' } }, /params do not match the schema: key: .*; value/],
      [{ jsonrpc: '2.0', method: 'plugin/unknown', params: {} }, /not in protocol v1/],
      [{ jsonrpc: '2.0', id: 9, method: 'kv/get', params: { instanceId: '1', key: 'k' }, extra: true }, /unexpected members extra/],
    ];
    for (const [message, problem] of cases) expect(checker.check(message), JSON.stringify(message)).toEqual([expect.stringMatching(problem)]);
    expect(checker.violations).toHaveLength(cases.length);
  });
});
