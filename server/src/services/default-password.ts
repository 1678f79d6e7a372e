import { verify } from '@node-rs/bcrypt';
import type { UserRecord } from '../model/user.js';

/**
 * Whether the default admin (config `defaultuser.name`) still has the password it was created
 * with (`defaultuser.pass`, admin/admin unless configured): the start line warns about it and
 * `GET /current/user` tells admins (`defaultAdminPassword`), so the web UI can show a banner.
 * The answer depends only on the stored hash, so it is computed once per hash (bcrypt costs
 * tens of milliseconds) and follows password changes by itself.
 */
export class DefaultPasswordCheck {
  private memo: { hash: string; result: Promise<boolean> } | undefined;

  constructor(
    private readonly users: { list(): UserRecord[] },
    private readonly name: string,
    private readonly pass: string,
  ) {}

  async unchanged(): Promise<boolean> {
    const user = this.users.list().find((u) => u.name === this.name && u.admin);
    if (!user) return false;
    if (this.memo?.hash !== user.passHash) {
      this.memo = { hash: user.passHash, result: verify(this.pass, user.passHash).catch(() => false) };
    }
    return this.memo.result;
  }
}
