import { describe, expect, it } from 'vitest';
import { resolveConfig } from './load.js';
import { CONFIG_KEYS, envName, flagName } from './keys.js';

describe('resolveConfig', () => {
  it('reads the cluster.* keys from FLOW_CLUSTER_*, refuses a short secret without echoing it and a URL that is no base URL', () => {
    const r = resolveConfig({ env: { FLOW_CLUSTER_SECRET: 'a-long-enough-shared-secret', FLOW_CLUSTER_ADVERTISEURL: 'http://10.0.0.5:8080', FLOW_CLUSTER_NAME: 'east-1' } });
    expect([r.config['cluster.secret'], r.config['cluster.advertiseurl'], r.config['cluster.name']]).toEqual(['a-long-enough-shared-secret', 'http://10.0.0.5:8080', 'east-1']);
    let err: unknown;
    try {
      resolveConfig({ env: { FLOW_CLUSTER_SECRET: 'hunter2hunter' } });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/cluster\.secret \(env FLOW_CLUSTER_SECRET\): the secret has 13 characters: use at least 16/);
    expect((err as Error).message).not.toContain('hunter2');
    expect(() => resolveConfig({ env: { FLOW_CLUSTER_ADVERTISEURL: 'ftp://x' } })).toThrow(/cluster\.advertiseurl .*not an http/);
    expect(() => resolveConfig({ env: { FLOW_CLUSTER_ADVERTISEURL: 'http://x/?a=1' } })).toThrow(/without credentials, query or fragment/);
  });

  it('starts from the defaults', () => {
    const { config } = resolveConfig({});
    expect(config['server.port']).toBe(8080);
    expect(config['server.stream.pingperiodseconds']).toBe(45);
    expect(config['server.stream.allowedorigins']).toEqual([]);
    expect(config.datadir).toBe('data');
    expect(config.passstrength).toBe(10);
    expect(config['limits.bodybytes']).toBe(1048576);
    expect(config['defaultuser.name']).toBe('admin');
  });

  it('layers file < env < flags < overrides', () => {
    const file = { path: 'config.yml', data: { server: { port: 1000, stream: { allowedorigins: ['a'] } }, datadir: 'f' } };
    let r = resolveConfig({ file });
    expect([r.config['server.port'], r.config.datadir, r.config['server.stream.allowedorigins']]).toEqual([1000, 'f', ['a']]);
    r = resolveConfig({ file, env: { FLOW_SERVER_PORT: '2000', FLOW_SERVER_STREAM_ALLOWEDORIGINS: 'x, y' } });
    expect(r.config['server.port']).toBe(2000);
    expect(r.config['server.stream.allowedorigins']).toEqual(['x', 'y']);
    r = resolveConfig({ file, env: { FLOW_SERVER_PORT: '2000' }, flags: { 'server.port': '3000' } });
    expect(r.config['server.port']).toBe(3000);
    r = resolveConfig({ file, env: { FLOW_SERVER_PORT: '2000' }, flags: { 'server.port': '3000' }, overrides: { 'server.port': 0 } });
    expect(r.config['server.port']).toBe(0);
  });

  it('names ignored file keys with the reason instead of failing (Gotify configs carry more keys)', () => {
    const r = resolveConfig({
      file: { path: 'c', data: { database: { dialect: 'sqlite3', connection: '' }, server: { ssl: { enabled: false, letsencrypt: { cache: 'x', hosts: ['a'] } }, nope: 1, trustedproxies: null } } },
    });
    expect(r.config['server.ssl.enabled']).toBe(false);
    // Gotify's database keys are Flow's too; sqlite3 means LevelDB, with a warning at start (flow.ts).
    expect(r.config['database.dialect']).toBe('sqlite3');
    expect(r.ignored).toEqual(['server.nope (unknown key)']);
  });

  it('reads Gotify\'s GOTIFY_* names beside FLOW_*, FLOW_* winning, and names the GOTIFY_* variables it ignores', () => {
    let r = resolveConfig({
      env: {
        GOTIFY_SERVER_PORT: '81',
        GOTIFY_DEFAULTUSER_PASS: 'secret',
        GOTIFY_SERVER_SSL_ENABLED: 'true',
        GOTIFY_SERVER_CORS_ALLOWORIGINS: '- ".+.example.com"\n- "otherdomain.com"',
        GOTIFY_DATABASE_DIALECT: 'postgres',
        GOTIFY_DATABASE_CONNECTION: 'host=db',
        GOTIFY_SERVER_SSL_LETSENCRYPT_CACHE: 'certs',
        GOTIFY_WHATEVER: '1',
      },
    });
    expect([r.config['server.port'], r.config['defaultuser.pass'], r.config['server.ssl.enabled'], r.config['server.cors.alloworigins']]).toEqual([
      81,
      'secret',
      true,
      ['.+.example.com', 'otherdomain.com'],
    ]);
    expect([r.config['database.dialect'], r.config['database.connection']]).toEqual(['postgres', 'host=db']);
    expect(r.ignored).toEqual(['GOTIFY_WHATEVER (unknown variable)']);
    expect(() => resolveConfig({ env: { FLOW_DATABASE_DIALECT: 'oracle' } })).toThrow('"oracle" is not a database dialect');
    r = resolveConfig({ env: { GOTIFY_SERVER_PORT: '81', FLOW_SERVER_PORT: '82' } });
    expect(r.config['server.port']).toBe(82);
    expect(() => resolveConfig({ env: { GOTIFY_SERVER_PORT: 'x' } })).toThrow('invalid value for server.port (env GOTIFY_SERVER_PORT)');
  });

  it('refuses Let\'s Encrypt in one line that says what to use instead', () => {
    for (const sources of [{ file: { path: 'c', data: { server: { ssl: { letsencrypt: { enabled: true } } } } } }, { env: { GOTIFY_SERVER_SSL_LETSENCRYPT_ENABLED: 'true' } }]) {
      expect(() => resolveConfig(sources)).toThrow(/server\.ssl\.letsencrypt\.enabled.*not supported: set server\.ssl\.certfile and server\.ssl\.certkey .* or use a reverse proxy$/);
    }
  });

  it('parses env booleans and JSON lists', () => {
    const r = resolveConfig({ env: { FLOW_REGISTRATION: 'true', FLOW_SERVER_STREAM_ALLOWEDORIGINS: '["a,b", "c"]' } });
    expect(r.config.registration).toBe(true);
    expect(r.config['server.stream.allowedorigins']).toEqual(['a,b', 'c']);
  });

  it('reads Gotify\'s server.cors block from the file and the env', () => {
    const file = { path: 'config.yml', data: { server: { cors: { alloworigins: ['.+\\.example\\.com'], allowmethods: ['GET', 'POST'], allowheaders: ['Authorization'] } } } };
    let r = resolveConfig({ file });
    expect([r.config['server.cors.alloworigins'], r.config['server.cors.allowmethods'], r.config['server.cors.allowheaders']]).toEqual([
      ['.+\\.example\\.com'],
      ['GET', 'POST'],
      ['Authorization'],
    ]);
    r = resolveConfig({ env: { FLOW_SERVER_CORS_ALLOWMETHODS: 'GET,PUT', FLOW_LIMITS_IMAGEBYTES: '2048' } });
    expect([r.config['server.cors.alloworigins'], r.config['server.cors.allowmethods'], r.config['limits.imagebytes']]).toEqual([[], ['GET', 'PUT'], 2048]);
  });

  it("reads server.responseheaders and server.trustedproxies in Gotify's forms", () => {
    const file = { path: 'c', data: { server: { responseheaders: { 'X-Custom-Header': 'custom value', 'X-Number': 5 }, trustedproxies: ['127.0.0.1/32', '::1'] } } };
    let r = resolveConfig({ file });
    expect(r.config['server.responseheaders']).toEqual({ 'X-Custom-Header': 'custom value', 'X-Number': '5' });
    expect(r.config['server.trustedproxies']).toEqual(['127.0.0.1/32', '::1']);
    expect(r.ignored).toEqual([]);
    // Gotify's documented env forms: a YAML flow mapping and a YAML flow sequence.
    r = resolveConfig({ env: { GOTIFY_SERVER_RESPONSEHEADERS: '{X-Custom-Header: "custom value", x-other: value}', GOTIFY_SERVER_TRUSTEDPROXIES: '[127.0.0.1,192.168.178.2/24]' } });
    expect(r.config['server.responseheaders']).toEqual({ 'X-Custom-Header': 'custom value', 'x-other': 'value' });
    expect(r.config['server.trustedproxies']).toEqual(['127.0.0.1', '192.168.178.2/24']);
    expect(r.ignored).toEqual([]);
    r = resolveConfig({ env: { FLOW_SERVER_RESPONSEHEADERS: '{"X-A": "1"}', FLOW_SERVER_TRUSTEDPROXIES: '10.0.0.0/8, fd00::/8' } });
    expect([r.config['server.responseheaders'], r.config['server.trustedproxies']]).toEqual([{ 'X-A': '1' }, ['10.0.0.0/8', 'fd00::/8']]);
    // Gotify's -1 turns TCP keep-alive off.
    expect(resolveConfig({ env: { GOTIFY_SERVER_KEEPALIVEPERIODSECONDS: '-1' } }).config['server.keepaliveperiodseconds']).toBe(-1);
    expect(() => resolveConfig({ env: { FLOW_SERVER_KEEPALIVEPERIODSECONDS: '-2' } })).toThrow('-2 is below the minimum -1');
    r = resolveConfig({ file: { path: 'c', data: { server: { responseheaders: null, trustedproxies: null } } } });
    expect([r.config['server.responseheaders'], r.config['server.trustedproxies']]).toEqual([{}, []]);
  });

  it.each([
    [{ env: { FLOW_SERVER_RESPONSEHEADERS: '[a]' } }, 'invalid value for server.responseheaders (env FLOW_SERVER_RESPONSEHEADERS): expected a YAML or JSON mapping'],
    [{ env: { GOTIFY_SERVER_RESPONSEHEADERS: '{bad header: x}' } }, 'invalid value for server.responseheaders (env GOTIFY_SERVER_RESPONSEHEADERS): "bad header" is not a valid header name'],
    [{ overrides: { 'server.responseheaders': { 'X-A': 'a\r\nSet-Cookie: x=1' } } }, 'the value of X-A contains a control character'],
    [{ file: { path: 'c', data: { server: { responseheaders: { 'X-A': ['x'] } } } } }, 'the value of X-A must be a string'],
    [{ env: { FLOW_SERVER_TRUSTEDPROXIES: '127.0.0.1, proxy.local' } }, '"proxy.local" is not an IP address or CIDR range'],
    [{ env: { FLOW_SERVER_TRUSTEDPROXIES: '10.0.0.0/33' } }, '"10.0.0.0/33" is not an IP address or CIDR range'],
  ])('rejects a bad response header or proxy naming the key (%#)', (sources, text) => {
    expect(() => resolveConfig(sources as never)).toThrow(text);
  });

  it.each([
    [{ env: { FLOW_SERVER_PORT: '80a' } }, 'invalid value for server.port (env FLOW_SERVER_PORT): expected an integer, got "80a"'],
    [{ flags: { passstrength: '40' } }, 'invalid value for passstrength (flag --passstrength): 40 is above the maximum 31'],
    [{ file: { path: 'c', data: { limits: { bodybytes: 0 } } } }, 'invalid value for limits.bodybytes (config file): 0 is below the minimum 1'],
    [{ file: { path: 'c', data: { server: { stream: { allowedorigins: ['('] } } } } }, 'invalid value for server.stream.allowedorigins'],
    [{ env: { FLOW_SERVER_CORS_ALLOWORIGINS: '^https://ok$, [' } }, 'invalid value for server.cors.alloworigins (env FLOW_SERVER_CORS_ALLOWORIGINS)'],
    [{ file: { path: 'c', data: { registration: 'maybe' } } }, 'invalid value for registration'],
    [{ file: { path: 'c', data: [1, 2] } }, 'c: expected a YAML mapping at the top level'],
    [{ overrides: { 'log.level': 'loud' } }, 'invalid value for log.level (option): must be one of'],
    [{ overrides: { nope: 1 } as never }, 'unknown config key nope'],
  ])('rejects invalid input naming the key (%#)', (sources, text) => {
    expect(() => resolveConfig(sources)).toThrow(text);
  });

  it('derives env and flag names from every key', () => {
    for (const def of CONFIG_KEYS) {
      expect(envName(def)).toMatch(/^FLOW_[A-Z_]+$/);
      expect(flagName(def)).toMatch(/^--[a-z-]+$/);
    }
    expect(envName(CONFIG_KEYS.find((d) => d.key === 'server.stream.pingperiodseconds')!)).toBe('FLOW_SERVER_STREAM_PINGPERIODSECONDS');
  });
});
