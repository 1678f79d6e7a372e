import { createTestHost, type TestHost, type TestInstance } from '@flow/plugin-kit/testing';
import { describe, it, type TestContext } from 'vitest';
import { plugin } from './plugin.js';

/** Every second: the tests watch messages arrive and stop arriving. */
const EVERY_SECOND = 'schedules:\n  - cron: "*/1 * * * * *"\n    text: tick\n    title: Clock\n    priority: 3\n';

/**
 * Proves that a tick of a per-second schedule has passed without a fixed sleep, however busy
 * the machine: a second instance on the same host, enabled with the same schedule, must send
 * two more ticks (the clocks fire on the same second boundaries, so between the witness's two
 * ticks the watched instance had one of its own).
 */
async function tickPassed(host: TestHost, witness: TestInstance): Promise<void> {
  const seen = witness.messages.length;
  await host.waitFor(() => witness.messages.length >= seen + 2, 10_000);
}

async function witnessOf(host: TestHost): Promise<TestInstance> {
  const witness = await host.createInstance();
  await witness.setConfig(EVERY_SECOND);
  await witness.enable();
  return witness;
}

/** A test host with one instance, closed (after checking the plugin's traffic) when the test ends. */
async function setup({ onTestFinished, expect }: TestContext): Promise<{ host: TestHost; inst: TestInstance }> {
  const host = await createTestHost(plugin);
  onTestFinished(async () => {
    expect(host.violations).toEqual([]);
    await host.close();
  });
  return { host, inst: await host.createInstance() };
}

// Concurrent: each test mostly waits for ticks, and each has its own host.
describe.concurrent('clock plugin', () => {
  it('sends on schedule while enabled and stops on disable', async (context) => {
    const { expect } = context;
    const { host, inst } = await setup(context);
    await inst.setConfig(EVERY_SECOND);
    const witness = await witnessOf(host);
    await tickPassed(host, witness);
    expect(inst.messages).toEqual([]); // configured but not enabled: no timers

    await inst.enable();
    await host.waitFor(() => inst.messages.length >= 1, 5000);
    expect(inst.messages[0]).toMatchObject({ message: 'tick', title: 'Clock', priority: 3 });

    await inst.disable();
    const sent = inst.messages.length;
    await tickPassed(host, witness);
    expect(inst.messages).toHaveLength(sent);
  });

  it('never fires for a destroyed instance', async (context) => {
    const { expect } = context;
    const { host, inst } = await setup(context);
    await inst.setConfig(EVERY_SECOND);
    await inst.enable();
    await host.waitFor(() => inst.messages.length >= 1, 5000);
    const witness = await witnessOf(host);
    await inst.destroy();
    // The test host refuses sends from a destroyed instance, so its message list would stay
    // the same either way: check that the plugin no longer says anything at all for it (no
    // send attempt, no log line about a failed one), i.e. its timers are gone.
    const mark = host.traffic.length;
    await tickPassed(host, witness);
    const fromDestroyed = host.traffic
      .slice(mark)
      .filter((t) => t.direction === 'pluginToHost' && (t.message as { params?: { instanceId?: string } }).params?.instanceId === inst.id);
    expect(fromDestroyed).toEqual([]);
  });

  it('reschedules when the config changes while enabled', async (context) => {
    const { expect } = context;
    const { host, inst } = await setup(context);
    await inst.setConfig(EVERY_SECOND);
    await inst.enable();
    await host.waitFor(() => inst.messages.length >= 1, 5000);
    await inst.setConfig('schedules:\n  - cron: "*/1 * * * * *"\n    text: tock\n');
    const before = inst.messages.length;
    await host.waitFor(() => inst.messages.length > before && inst.messages.at(-1)?.message === 'tock', 5000);
    // The old timer is gone: after the switch, only "tock" arrives.
    const switched = inst.messages.findIndex((m) => m.message === 'tock');
    await tickPassed(host, await witnessOf(host));
    expect(inst.messages.slice(switched).every((m) => m.message === 'tock')).toBe(true);
    // No title or priority configured: left to the application's defaults.
    expect(inst.messages.at(-1)).not.toHaveProperty('title');
    expect(inst.messages.at(-1)).not.toHaveProperty('priority');
  });

  it('a rejected config keeps the running schedule', async (context) => {
    const { expect } = context;
    const { host, inst } = await setup(context);
    await inst.setConfig(EVERY_SECOND);
    await inst.enable();
    await expect(inst.setConfig('schedules:\n  - cron: "every day"\n    text: x\n')).rejects.toThrow('schedules[0]: invalid cron "every day"');
    const before = inst.messages.length;
    await host.waitFor(() => inst.messages.length > before, 5000);
    expect(inst.messages.at(-1)?.message).toBe('tick');
  });

  it('a failing send is logged and the schedule goes on', async (context) => {
    const { expect } = context;
    const { host, inst } = await setup(context);
    let calls = 0;
    host.handle('message/send', () => {
      calls += 1;
      if (calls === 1) throw new Error('database is locked');
      return { id: calls };
    });
    await inst.setConfig(EVERY_SECOND);
    await inst.enable();
    await host.waitFor(() => calls >= 2, 5000);
    expect(inst.logs.some((l) => l.level === 'error' && l.message === 'could not send scheduled message')).toBe(true);
  });

  it('display: the schedule with next run times, escaped', async (context) => {
    const { expect } = context;
    const { host, inst } = await setup(context);
    expect(await inst.display()).toContain('No schedules yet');
    await inst.setConfig('schedules:\n  - cron: "0 9 * * 1-5"\n    text: "Stand-up | [join](https://evil.example)"\n    timezone: UTC\n');
    const disabled = await inst.display();
    expect(disabled).toContain('**Disabled**');
    expect(disabled).toMatch(/\| 0 \| `0 9 \* \* 1-5` \(UTC\) \|  \| Stand\\-up \\\| \\\[join\\\]\\\(https\\:\\\/\\\/evil\\\.example\\\)/);
    expect(disabled).toMatch(/\d{4}-\d\d-\d\d 09:00:00 UTC/);
    await inst.enable();
    expect(await inst.display()).toContain('**Enabled**');
  });
});
