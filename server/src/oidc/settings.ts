import { FlowError } from '../errors.js';
import type { FlowConfig } from '../config/keys.js';

/** The `oidc.*` keys, checked once at start. */
export interface OidcSettings {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  /** Empty: built per request from the address the browser used. */
  redirectUrl: string;
  usernameClaim: string;
  autoRegister: boolean;
  linkByUsername: boolean;
  scopes: string[];
  groupsClaim: string;
  /** Empty: OIDC never touches the admin flag. */
  adminGroup: string;
}

const invalid = (key: string, detail: string) => new FlowError('FLOW_ERR_CONFIG_INVALID', `invalid value for ${key}: ${detail}`);

/**
 * The OIDC settings, or undefined when `oidc.enabled` is false. Only what the configuration
 * alone decides is checked here (a missing issuer is a config error at start); the provider is
 * not contacted, so a provider that is down never stops the server from starting.
 */
export function oidcSettings(config: FlowConfig): OidcSettings | undefined {
  if (!config['oidc.enabled']) return undefined;
  if (config['oidc.issuer'] === '') throw invalid('oidc.issuer', 'required when oidc.enabled is true (the provider\'s issuer URL)');
  let issuer: URL;
  try {
    issuer = new URL(config['oidc.issuer']);
  } catch {
    throw invalid('oidc.issuer', `${JSON.stringify(config['oidc.issuer'])} is not a URL`);
  }
  if (issuer.protocol !== 'https:' && issuer.protocol !== 'http:') throw invalid('oidc.issuer', 'must be an http(s) URL');
  // Gotify 3 stores identities as `<issuer>#<subject>`: an issuer with a fragment would be ambiguous.
  if (issuer.hash !== '' || config['oidc.issuer'].includes('#')) throw invalid('oidc.issuer', 'may not contain a fragment (#)');
  if (config['oidc.clientid'] === '') throw invalid('oidc.clientid', 'required when oidc.enabled is true');
  const redirectUrl = config['oidc.redirecturl'];
  if (redirectUrl !== '') {
    try {
      new URL(redirectUrl);
    } catch {
      throw invalid('oidc.redirecturl', `${JSON.stringify(redirectUrl)} is not a URL (expected https://<your server>/auth/oidc/callback)`);
    }
  }
  if (config['oidc.usernameclaim'] === '') throw invalid('oidc.usernameclaim', 'may not be empty');
  const scopes = config['oidc.scopes'];
  if (!scopes.includes('openid')) throw invalid('oidc.scopes', 'must include openid');
  return {
    issuer,
    clientId: config['oidc.clientid'],
    clientSecret: config['oidc.clientsecret'],
    redirectUrl,
    usernameClaim: config['oidc.usernameclaim'],
    autoRegister: config['oidc.autoregister'],
    linkByUsername: config['oidc.linkbyusername'],
    scopes,
    groupsClaim: config['oidc.groupsclaim'],
    adminGroup: config['oidc.admingroup'],
  };
}

/** Whether passwords are accepted (POST /auth/local/login, Basic auth): off only with OIDC on and oidc.locallogin false. */
export const passwordLoginAllowed = (config: FlowConfig): boolean => !config['oidc.enabled'] || config['oidc.locallogin'];
