/** A stored user. `passHash` is a bcrypt hash and never leaves the server. */
export interface UserRecord {
  id: number;
  name: string;
  passHash: string;
  admin: boolean;
  /**
   * The OpenID Connect identity this user signs in with, `<issuer>#<subject>` (Gotify 3's
   * `oidc_id`, so an imported link keeps working); absent for users never linked. Users created
   * by OIDC have an empty `passHash` (no password) until they set one.
   */
  oidcId?: string;
}

/** Wire shape (Gotify `UserExternal`). */
export interface UserExternal {
  id: number;
  name: string;
  admin: boolean;
}

export const toExternalUser = (u: UserRecord): UserExternal => ({ id: u.id, name: u.name, admin: u.admin });
