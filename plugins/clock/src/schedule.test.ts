import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultConfigYaml, MAX_SCHEDULES, nextRuns, parseSchedules } from './schedule.js';

describe('parseSchedules', () => {
  it('accepts the default config (no schedules)', () => {
    expect(parseSchedules(parse(defaultConfigYaml()))).toEqual([]);
  });

  it('keeps the optional fields', () => {
    const config = { schedules: [{ cron: ' 0 9 * * 1-5 ', text: 'Stand-up', title: 'Team', priority: 7, timezone: 'Europe/Berlin' }, { cron: '@hourly', text: 'tick' }] };
    expect(parseSchedules(config)).toEqual([
      { cron: '0 9 * * 1-5', text: 'Stand-up', title: 'Team', priority: 7, timezone: 'Europe/Berlin' },
      { cron: '@hourly', text: 'tick' },
    ]);
  });

  it('takes a text or title that YAML read as a number or boolean as the text written', () => {
    expect(parseSchedules(parse('schedules:\n  - cron: "@daily"\n    text: 42\n    title: 2026\n'))).toEqual([{ cron: '@daily', text: '42', title: '2026' }]);
    expect(parseSchedules({ schedules: [{ cron: '@daily', text: true }] })).toEqual([{ cron: '@daily', text: 'true' }]);
  });

  it.each([
    [{ schedules: [{ cron: '* * * * *', text: ['a'] }] }, 'schedules[0]: text must be text'],
    [{ schedules: 'daily' }, 'schedules must be a list'],
    [{ schedules: ['0 9 * * *'] }, 'schedules[0]: must be a mapping with cron and text'],
    [{ schedules: [{ text: 'x' }] }, 'schedules[0]: cron is missing'],
    [{ schedules: [{ cron: '* * * * *' }] }, 'schedules[0]: text is missing'],
    [{ schedules: [{ cron: '* * * * *', text: 'ok' }, { cron: '*/x * * * *', text: 'bad' }] }, 'schedules[1]: invalid cron "*/x * * * *"'],
    [{ schedules: [{ cron: '61 * * * *', text: 'x' }] }, 'schedules[0]: invalid cron "61 * * * *": Invalid value for minute: 61'],
    [{ schedules: [{ cron: '* * *', text: 'x' }] }, 'schedules[0]: invalid cron "* * *"'],
    [{ schedules: [{ cron: '0 0 30 2 *', text: 'x' }] }, 'schedules[0]: cron "0 0 30 2 *" never fires'],
    [{ schedules: [{ cron: '0 9 * * *', text: 'x', timezone: 'Mars/Olympus' }] }, 'or timezone "Mars/Olympus"'],
    [{ schedules: [{ cron: '0 9 * * *', text: 'x', priority: 'high' }] }, 'schedules[0]: priority must be a whole number from 0 to 10'],
    [{ schedules: Array.from({ length: MAX_SCHEDULES + 1 }, () => ({ cron: '@daily', text: 'x' })) }, `at most ${MAX_SCHEDULES} entries`],
  ])('rejects %j', (config, reason) => {
    expect(() => parseSchedules(config)).toThrow(reason);
  });

  it('keeps reasons short', () => {
    try {
      parseSchedules({ schedules: [{ cron: '0 9 * * *', text: 'x', timezone: 'Mars/Olympus' }] });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(250);
    }
  });
});

describe('nextRuns', () => {
  it('reads the pattern in the given zone', () => {
    const [utc] = nextRuns({ cron: '0 9 * * *', text: 'x', timezone: 'UTC' }, 1);
    const [tokyo] = nextRuns({ cron: '0 9 * * *', text: 'x', timezone: 'Asia/Tokyo' }, 1);
    expect(utc?.getUTCHours()).toBe(9);
    expect(tokyo?.getUTCHours()).toBe(0);
  });
});
