import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempLevelStore, removeTempLevelStore } from '../../../test/helpers/temp-level-store.js';
import { readFileSync } from 'node:fs';
import { EventBus } from '../events.js';
import type { LevelStore } from '../store/level/level-store.js';
import { UserService } from './user.js';

// Made by golang.org/x/crypto/bcrypt (Gotify's password.go) for the password "gotify-pass".
const GOTIFY_HASH = '$2a$10$nZZA51WAS9zcdiVD/kfLT.0OtPUNl8MIkNDePynnOWW10GvP0mJba';

let dir: string;
let store: LevelStore;
beforeEach(async () => {
  ({ dir, store } = await openTempLevelStore('flow-users-'));
});
afterEach(() => removeTempLevelStore(store, dir));

/** CPU time (ms) of this process's main thread: /proc/self/task/<pid>/stat, utime + stime in clock ticks. */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name; 100 ticks a second on Linux.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

describe('UserService passwords', () => {
  it("verifies Gotify's $2a$ bcrypt hashes", async () => {
    await store.users.create({ name: 'gotify', passHash: GOTIFY_HASH, admin: false });
    const users = new UserService({ users: store.users, bus: new EventBus(() => undefined), passStrength: 4 });
    expect((await users.verifyPassword('gotify', 'gotify-pass'))?.name).toBe('gotify');
    expect(await users.verifyPassword('gotify', 'wrong')).toBeUndefined();
  });

  it('hashes and verifies off the main thread', async () => {
    const users = new UserService({ users: store.users, bus: new EventBus(() => undefined), passStrength: 11 });
    await users.create({ name: 'slow', pass: 'right', admin: false });
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuMs();
    // Wrong passwords: never cached, each one a full cost-11 bcrypt.
    await Promise.all(Array.from({ length: 3 }, (_, i) => users.verifyPassword('slow', 'wrong' + i)));
    const main = mainThreadCpuMs() - main0;
    const cpu = process.cpuUsage(cpu0);
    const total = (cpu.user + cpu.system) / 1000;
    // Side by side in one run: the process spent its CPU on bcrypt, the main thread almost none.
    expect(total).toBeGreaterThan(100);
    expect(main).toBeLessThan(total * 0.25);
  });
});
