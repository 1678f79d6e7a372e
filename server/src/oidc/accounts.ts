import { FlowError, HttpError } from '../errors.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import type { Logger } from '../log.js';
import type { UserRecord } from '../model/user.js';
import type { UserService } from '../services/user.js';
import type { IdentityClaims } from './relying-party.js';
import type { OidcSettings } from './settings.js';

/**
 * Which Flow user an OIDC identity signs in as — Gotify 3's rule, in this order:
 * 1. the user linked to the identity `<issuer>#<subject>` (created by an earlier OIDC login,
 *    linked by username, or imported from Gotify with its `oidc_id`);
 * 2. else the user named by the username claim, if there is one: linked to this identity only
 *    with `oidc.linkbyusername` and only if it is not linked to another identity; otherwise the
 *    login is refused (403) — a local account is never taken over silently;
 * 3. else a new user (no password, not an admin), with `oidc.autoregister` (403 otherwise).
 * Then, with `oidc.admingroup` set, the admin flag follows the groups claim at every login
 * (Flow's addition; the last admin is never demoted).
 */
export class OidcAccounts {
  /** One resolution per identity at a time: two first logins of one identity create one user. */
  private readonly lock = new KeyedMutex<string>();

  constructor(
    private readonly settings: OidcSettings,
    private readonly users: UserService,
    private readonly log: Logger,
  ) {}

  resolve(claims: IdentityClaims): Promise<UserRecord> {
    const oidcId = identityOf(claims);
    return this.lock.run(oidcId, () => this.resolveLocked(oidcId, claims));
  }

  private async resolveLocked(oidcId: string, claims: IdentityClaims): Promise<UserRecord> {
    const admin = this.adminOf(claims);
    const linked = this.users.getByOidcId(oidcId);
    if (linked) return admin === undefined || admin === linked.admin ? linked : this.users.applyOidc(linked.id, { admin });

    const name = this.usernameOf(claims);
    const existing = this.users.getByName(name);
    if (existing) {
      if (!this.settings.linkByUsername) {
        this.log.warn({ oidcId, username: name }, 'OIDC login refused: a user of that name exists and oidc.linkbyusername is off');
        throw new HttpError(403, `a local user with the username ${name} already exists and linking by username is disabled`);
      }
      const refuse = (cur: UserRecord) =>
        cur.oidcId !== undefined && cur.oidcId !== oidcId ? `the user ${cur.name} is already bound to a different OIDC identity` : undefined;
      const problem = refuse(existing);
      if (problem) {
        this.log.warn({ oidcId, username: name }, 'OIDC login refused: the user is linked to another identity');
        throw new HttpError(403, problem);
      }
      this.log.info({ oidcId, username: name }, 'OIDC identity linked to an existing user');
      return this.users.applyOidc(existing.id, { oidcId, ...(admin === undefined ? {} : { admin }) }, refuse);
    }
    if (!this.settings.autoRegister) throw new HttpError(403, 'user does not exist and auto-registration is disabled');
    try {
      const user = await this.users.createLinked({ name, admin: admin ?? false, oidcId });
      this.log.info({ oidcId, username: name, admin: user.admin }, 'OIDC auto registration');
      return user;
    } catch (err) {
      if (err instanceof FlowError && err.message === 'username already exists') {
        // The same identity's first login finished elsewhere meanwhile (another replica): that user it is.
        const created = this.users.getByOidcId(oidcId);
        if (created) return created;
        // Else created by another path (POST /user) between the check and the write: a local user.
        throw new HttpError(403, `a local user with the username ${name} already exists and linking by username is disabled`);
      }
      throw err;
    }
  }

  /** The user name from the configured claim: a non-empty string (a number is written out, as Gotify's fmt.Sprint). */
  private usernameOf(claims: IdentityClaims): string {
    const claim = this.settings.usernameClaim;
    const raw = claims[claim];
    if (raw === undefined || raw === null) {
      throw new HttpError(403, `the identity has no "${claim}" claim, which names the Flow user (oidc.usernameclaim); ask the provider's admin to release it, or choose another claim`);
    }
    const name = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' ? String(raw) : '';
    if (name === '') throw new HttpError(403, `the identity's "${claim}" claim (oidc.usernameclaim) is empty or not a string`);
    if (name.length > 256) throw new HttpError(403, `the identity's "${claim}" claim (oidc.usernameclaim) is longer than 256 characters`);
    return name;
  }

  /** Admin or not by the groups claim; undefined when oidc.admingroup is not set. */
  private adminOf(claims: IdentityClaims): boolean | undefined {
    if (this.settings.adminGroup === '') return undefined;
    const raw = claims[this.settings.groupsClaim];
    const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : typeof raw === 'string' ? [raw] : [];
    return groups.includes(this.settings.adminGroup);
  }
}

/** Gotify 3's identity key, `<issuer>#<subject>` (its users.oidc_id column). */
export function identityOf(claims: { iss: string; sub: string }): string {
  if (!claims.sub) throw new HttpError(403, 'the identity has no subject (sub) claim');
  return `${claims.iss}#${claims.sub}`;
}
