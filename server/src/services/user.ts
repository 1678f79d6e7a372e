import { createHash } from 'node:crypto';
import { hash as bcryptHash, verify as bcryptVerify } from '@node-rs/bcrypt';
import { FlowError, badRequest, notFound } from '../errors.js';
import type { EventBus } from '../events.js';
import type { UserRecord } from '../model/user.js';
import type { UserStore } from '../store/user.js';
import { LoginThrottle } from './login-throttle.js';

/** How long a verified (user, password) pair skips bcrypt. */
const BASIC_CACHE_MS = 60_000;
const BASIC_CACHE_MAX = 10_000;

export interface UserServiceDeps {
  users: UserStore;
  bus: EventBus;
  /** bcrypt cost (config `passstrength`). */
  passStrength: number;
  /** Failed-login throttle; default limits when absent. */
  throttle?: LoginThrottle;
}

/**
 * 400 unless `value` is well-formed UTF-16. LevelDB stores keys and values as UTF-8, which turns a
 * lone surrogate (JSON `"\ud800"`) into U+FFFD: the name in memory and the name on disk would
 * differ, and after a restart a second user of the "same" name could be created.
 */
const LONE_SURROGATE = /\p{Cs}/u;

function wellFormed(field: string, value: string): void {
  // With the u flag a valid pair is one code point, so \p{Cs} only matches a lone half.
  if (LONE_SURROGATE.test(value)) throw badRequest(`Field '${field}' is not valid Unicode (it contains a lone UTF-16 surrogate)`);
}

/**
 * Users: creation, updates, the last-admin rule, deletion with its cascade, and password checks.
 * Errors are FlowErrors with Gotify's text; the HTTP edge gives them Gotify's status.
 */
export class UserService {
  /** sha256(id, name, password, hash) → expiry. The hash is part of the key, so a password change misses. */
  private verified = new Map<string, number>();
  private readonly throttle: LoginThrottle;

  constructor(private readonly deps: UserServiceDeps) {
    this.throttle = deps.throttle ?? new LoginThrottle();
  }

  list(): UserRecord[] {
    return this.deps.users.list();
  }

  get(id: number): UserRecord | undefined {
    return this.deps.users.get(id);
  }

  getByName(name: string): UserRecord | undefined {
    return this.deps.users.getByName(name);
  }

  /** 404 "user does not exist" when missing. */
  require(id: number): UserRecord {
    const u = this.deps.users.get(id);
    if (!u) throw notFound('user does not exist');
    return u;
  }

  hashPassword(pass: string): Promise<string> {
    // Native bcrypt on libuv's thread pool: hashing never blocks the event loop.
    return bcryptHash(pass, this.deps.passStrength);
  }

  /**
   * Creates a user and emits `userAdded` (awaited: a subscriber failure gives a 500, while the
   * user stays created, as in Gotify). 400 "username already exists" on a duplicate.
   */
  async create(input: { name: string; pass: string; admin: boolean }): Promise<UserRecord> {
    wellFormed('name', input.name);
    wellFormed('pass', input.pass);
    if (this.deps.users.getByName(input.name)) throw badRequest('username already exists');
    const passHash = await this.hashPassword(input.pass);
    let user: UserRecord;
    try {
      user = await this.deps.users.create({ name: input.name, passHash, admin: input.admin });
    } catch (err) {
      throw err; // a FlowError keeps its kind: the HTTP edge maps it
    }
    try {
      await this.deps.bus.emit('userAdded', { user });
    } catch (err) {
      throw new FlowError('FLOW_ERR_INTERNAL', (err as Error).message ?? String(err), { expose: true, cause: err });
    }
    return user;
  }

  /** The user linked to an OIDC identity (`<issuer>#<subject>`). Logins are rare and users few: a scan. */
  getByOidcId(oidcId: string): UserRecord | undefined {
    return this.deps.users.list().find((u) => u.oidcId === oidcId);
  }

  /**
   * Creates a user signing in through OIDC: no password (an empty hash matches none), linked to
   * its identity, and announced with `userAdded` as any new user.
   */
  async createLinked(input: { name: string; admin: boolean; oidcId: string }): Promise<UserRecord> {
    wellFormed('name', input.name);
    if (this.deps.users.getByName(input.name)) throw badRequest('username already exists');
    const user = await this.deps.users.create({ name: input.name, passHash: '', admin: input.admin, oidcId: input.oidcId });
    try {
      await this.deps.bus.emit('userAdded', { user });
    } catch (err) {
      throw new FlowError('FLOW_ERR_INTERNAL', (err as Error).message ?? String(err), { expose: true, cause: err });
    }
    return user;
  }

  /**
   * Links an existing user to an OIDC identity (oidc.linkbyusername) and/or sets its admin flag
   * (oidc.admingroup). `refuse` runs inside the store's lock against the current record and
   * returns an error text to abort (the user was linked to another identity meanwhile). Demoting
   * the last admin is skipped (the flag stays), as an admin's own edit would be refused.
   */
  async applyOidc(id: number, change: { oidcId?: string; admin?: boolean }, refuse?: (cur: UserRecord) => string | undefined): Promise<UserRecord> {
    return this.deps.users.update(id, (cur) => {
      const problem = refuse?.(cur);
      if (problem) throw new FlowError('FLOW_ERR_FORBIDDEN', problem);
      let admin = change.admin ?? cur.admin;
      if (cur.admin && !admin && this.deps.users.countAdmins() === 1) admin = true;
      return { ...cur, admin, ...(change.oidcId !== undefined ? { oidcId: change.oidcId } : {}) };
    });
  }

  /** Creates the default admin when the database has no user yet. Returns it, or undefined. */
  async ensureDefaultUser(name: string, pass: string): Promise<UserRecord | undefined> {
    if (this.deps.users.list().length > 0) return undefined;
    try {
      return await this.create({ name, pass, admin: true });
    } catch (err) {
      // Another server starting on the same database created it first.
      if (err instanceof FlowError && err.code === 'FLOW_ERR_STORE_CONFLICT' && this.deps.users.getByName(name)) return undefined;
      throw err;
    }
  }

  /**
   * POST /user/:id: sets name and admin, and the password when `pass` is non-empty.
   * 400 "cannot delete last admin" when this would demote the only admin.
   */
  async update(id: number, input: { name: string; admin: boolean; pass?: string }): Promise<UserRecord> {
    this.require(id);
    wellFormed('name', input.name);
    if (input.pass) wellFormed('pass', input.pass);
    const passHash = input.pass ? await this.hashPassword(input.pass) : undefined;
    try {
      const next = await this.deps.users.update(id, (cur) => {
        if (cur.admin && !input.admin && this.deps.users.countAdmins() === 1) throw badRequest('cannot delete last admin');
        return { ...cur, name: input.name, admin: input.admin, passHash: passHash ?? cur.passHash };
      });
      if (passHash) this.verified.clear();
      return next;
    } catch (err) {
      throw err; // a FlowError keeps its kind: the HTTP edge maps it
    }
  }

  /** POST /current/user/password. */
  async changePassword(id: number, pass: string): Promise<void> {
    wellFormed('pass', pass);
    const passHash = await this.hashPassword(pass);
    try {
      await this.deps.users.update(id, (cur) => ({ ...cur, passHash }));
    } catch (err) {
      throw err; // a FlowError keeps its kind: the HTTP edge maps it
    }
    this.verified.clear();
  }

  /**
   * Deletes the user and everything it owns, in this order (Gotify's):
   * 1. 404 if missing, 400 "cannot delete last admin";
   * 2. `userDeleting` subscribers (plugin host) run; a failure → 500 and the user is kept;
   * 3. one batch removes the user, its applications, clients and plugin confs, and marks its
   *    messages deleted (the purger removes them in the background, see store/purger.ts);
   * 4. `userDeleted` (the stream hub closes the user's websockets).
   */
  async delete(id: number): Promise<UserRecord> {
    const user = this.require(id);
    const lastAdmin = (u: UserRecord) => {
      if (u.admin && this.deps.users.countAdmins() === 1) throw badRequest('cannot delete last admin');
    };
    lastAdmin(user);
    try {
      await this.deps.bus.emit('userDeleting', { user });
    } catch (err) {
      throw new FlowError('FLOW_ERR_INTERNAL', (err as Error).message ?? String(err), { expose: true, cause: err });
    }
    let removed: UserRecord;
    try {
      removed = await this.deps.users.delete(id, lastAdmin);
    } catch (err) {
      throw err; // a FlowError keeps its kind: the HTTP edge maps it
    }
    this.verified.clear();
    // Synchronous subscribers (the stream hub) run before this returns; failures are logged.
    this.deps.bus.emitSafe('userDeleted', { user: removed });
    return removed;
  }

  /**
   * HTTP Basic check. bcrypt costs tens of milliseconds, and clients that use Basic send it on
   * every request, so successful checks are remembered for a minute (keyed by a hash that
   * includes the stored hash; cleared on any password change or user delete). The hash runs
   * off the main thread (native bcrypt on libuv's pool), and failures are throttled per source
   * address and per user name (429 TooManyLogins before bcrypt runs; see LoginThrottle).
   */
  async verifyPassword(name: string, pass: string, source?: string): Promise<UserRecord | undefined> {
    const user = this.deps.users.getByName(name);
    const key = user && createHash('sha256').update(`${user.id}\0${name}\0${pass}\0${user.passHash}`).digest('base64');
    const now = Date.now();
    const until = key === undefined ? undefined : this.verified.get(key);
    if (user && until !== undefined && until > now) return user;
    this.throttle.check(name, source);
    if (!user || !(await bcryptVerify(pass, user.passHash).catch(() => false))) {
      this.throttle.failed(name, source);
      return undefined;
    }
    // Re-read: the user may have been deleted or changed while bcrypt ran.
    const current = this.deps.users.get(user.id);
    if (!current || current.passHash !== user.passHash) return undefined;
    if (this.verified.size >= BASIC_CACHE_MAX) this.verified.clear();
    this.verified.set(key!, now + BASIC_CACHE_MS);
    return current;
  }
}
