import { badRequest } from '../errors.js';
import type { RetentionSetting } from '../model/application.js';

/** Largest accepted `maxCount`: beyond this a limit is a typo, not a policy. */
export const MAX_RETENTION_COUNT = 100_000_000;
/** Largest accepted `maxAgeSeconds`: 100 years. */
export const MAX_RETENTION_AGE_SECONDS = 100 * 365 * 86_400;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 7 * 86_400 };

const field = (name: string) => `Field 'retention.${name}'`;

function positiveInt(name: string, v: number, max: number): number {
  if (!Number.isSafeInteger(v)) throw badRequest(`${field(name)} must be a whole number`);
  if (v < 1) throw badRequest(`${field(name)} must be at least 1 (null keeps every message)`);
  if (v > max) throw badRequest(`${field(name)} must be at most ${max}`);
  return v;
}

/** Seconds from a number or a text such as "90", "45s", "30m", "12h", "7d", "2w". */
function parseAge(v: unknown): number {
  const name = 'maxAgeSeconds';
  if (typeof v === 'number') return positiveInt(name, v, MAX_RETENTION_AGE_SECONDS);
  if (typeof v !== 'string') throw badRequest(`${field(name)} must be a number of seconds, a duration such as "7d", or null`);
  const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(v);
  if (!m) throw badRequest(`${field(name)} must be a number of seconds or a duration such as "7d" (units s, m, h, d, w)`);
  const unit = m[2]!.toLowerCase() || 's';
  const per = UNIT_SECONDS[unit];
  if (per === undefined) throw badRequest(`${field(name)} has an unknown unit "${m[2]}" (use s, m, h, d or w)`);
  return positiveInt(name, Number(m[1]) * per, MAX_RETENTION_AGE_SECONDS);
}

/**
 * The `retention` object of PUT /application/:id: `{"maxCount": N|null, "maxAgeSeconds": N|"7d"|null}`,
 * either field optional (absent = unchanged). null removes the limit. Keys match case-insensitively,
 * as the other fields of the body do. Anything else is a 400 naming the field, and nothing changes.
 */
export function parseRetention(input: Record<string, unknown>): RetentionSetting {
  const out: RetentionSetting = {};
  for (const [key, v] of Object.entries(input)) {
    const k = key.toLowerCase();
    if (k === 'maxcount') {
      if (v === null) out.maxCount = null;
      else if (typeof v === 'number') out.maxCount = positiveInt('maxCount', v, MAX_RETENTION_COUNT);
      else throw badRequest(`${field('maxCount')} must be a number or null`);
    } else if (k === 'maxageseconds') {
      out.maxAgeSeconds = v === null ? null : parseAge(v);
    } else {
      throw badRequest(`${field(key)} is unknown (use maxCount and maxAgeSeconds)`);
    }
  }
  return out;
}
