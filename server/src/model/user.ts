/** A stored user. `passHash` is a bcrypt hash and never leaves the server. */
export interface UserRecord {
  id: number;
  name: string;
  passHash: string;
  admin: boolean;
}

/** Wire shape (Gotify `UserExternal`). */
export interface UserExternal {
  id: number;
  name: string;
  admin: boolean;
}

export const toExternalUser = (u: UserRecord): UserExternal => ({ id: u.id, name: u.name, admin: u.admin });
