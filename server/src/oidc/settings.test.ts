import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load.js';
import { oidcSettings, passwordLoginAllowed } from './settings.js';

const base = { 'oidc.enabled': true, 'oidc.issuer': 'https://id.example.org/realms/main', 'oidc.clientid': 'flow' } as const;

describe('oidc settings', () => {
  it('have Gotify 3\'s defaults and are off unless enabled', () => {
    const { config } = resolveConfig({});
    expect(oidcSettings(config)).toBeUndefined();
    expect(passwordLoginAllowed(config)).toBe(true);
    const s = oidcSettings(resolveConfig({ overrides: base }).config)!;
    expect(s).toMatchObject({ usernameClaim: 'preferred_username', autoRegister: true, linkByUsername: false, scopes: ['openid', 'profile', 'email'], adminGroup: '', groupsClaim: 'groups', redirectUrl: '' });
  });

  it('read Gotify 3\'s environment names, GOTIFY_OIDC_LINK_BY_USERNAME included, and FLOW_OIDC_* over them', () => {
    const { config, ignored } = resolveConfig({
      env: {
        GOTIFY_OIDC_ENABLED: 'true',
        GOTIFY_OIDC_ISSUER: 'https://id.example.org',
        GOTIFY_OIDC_CLIENTID: 'gotify',
        GOTIFY_OIDC_CLIENTSECRET: 's3cret',
        GOTIFY_OIDC_REDIRECTURL: 'https://push.example.org/auth/oidc/callback',
        GOTIFY_OIDC_USERNAMECLAIM: 'email',
        GOTIFY_OIDC_AUTOREGISTER: 'false',
        GOTIFY_OIDC_LINK_BY_USERNAME: 'true',
        GOTIFY_OIDC_SCOPES: 'openid,email',
        FLOW_OIDC_CLIENTID: 'flow',
        FLOW_OIDC_ADMINGROUP: 'admins',
        FLOW_OIDC_LOCALLOGIN: 'false',
      },
    });
    expect(oidcSettings(config)).toMatchObject({
      clientId: 'flow',
      clientSecret: 's3cret',
      redirectUrl: 'https://push.example.org/auth/oidc/callback',
      usernameClaim: 'email',
      autoRegister: false,
      linkByUsername: true,
      scopes: ['openid', 'email'],
      adminGroup: 'admins',
    });
    expect(passwordLoginAllowed(config)).toBe(false);
    expect(ignored).toEqual([]);
  });

  it('name the key of a missing or malformed value', () => {
    const check = (overrides: Record<string, unknown>) => () => oidcSettings(resolveConfig({ overrides: { ...base, ...overrides } }).config);
    expect(check({ 'oidc.issuer': '' })).toThrow(/oidc\.issuer: required/);
    expect(check({ 'oidc.issuer': 'not a url' })).toThrow(/oidc\.issuer: "not a url" is not a URL/);
    expect(check({ 'oidc.issuer': 'ftp://x' })).toThrow(/oidc\.issuer: must be an http\(s\) URL/);
    expect(check({ 'oidc.issuer': 'https://x/#frag' })).toThrow(/oidc\.issuer: may not contain a fragment/);
    expect(check({ 'oidc.clientid': '' })).toThrow(/oidc\.clientid: required/);
    expect(check({ 'oidc.redirecturl': 'callback' })).toThrow(/oidc\.redirecturl/);
    expect(check({ 'oidc.scopes': ['profile'] })).toThrow(/oidc\.scopes: must include openid/);
  });

  it('keep the client secret out of --help', async () => {
    const { buildCommand } = await import('../config/load.js');
    expect(buildCommand('1').helpInformation()).toMatch(/--oidc-clientsecret <value>.*\(secret\)/s);
  });
});
