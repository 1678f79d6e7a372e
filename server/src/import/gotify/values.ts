/**
 * Column values as the three drivers return them (better-sqlite3, pg, mysql2), turned into
 * what Flow stores. GORM writes bools as 0/1 (SQLite numeric, MySQL tinyint) or booleans
 * (PostgreSQL), []byte as BLOB/bytea (a Buffer; older rows may hold text), and time.Time as
 * text with a zone (SQLite, via mattn/go-sqlite3), timestamptz (a Date) or zone-less DATETIME (MySQL).
 */

export const toInt = (v: unknown): number => {
  if (v === null || v === undefined || v === '') return 0;
  const n = typeof v === 'bigint' ? Number(v) : Number(v);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
};

export const toBool = (v: unknown): boolean => {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v === '1' || v.toLowerCase() === 'true' || v === 't';
  if (Buffer.isBuffer(v)) return v.length > 0 && v[0] !== 0 && v.toString() !== '0';
  return toInt(v) !== 0;
};

export const toText = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return String(v);
};

export const toBytes = (v: unknown): Buffer => {
  if (v === null || v === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  return Buffer.from(String(v), 'utf8');
};

// 2024-01-02 15:04:05.123456789+01:00 | 2024-01-02T15:04:05Z | 2024-01-02 15:04:05.1 +0000 UTC (Go's time.String)
const TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?/;

/** An ISO-8601 UTC time (millisecond precision, as Flow stores times), or null for NULL/empty/unreadable. */
export function toIsoTime(v: unknown, naiveZone: 'local' | 'utc' = 'utc'): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  const text = toText(v).trim();
  const m = TIME.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  const ms = Number((frac + '000').slice(0, 3));
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms] as const;
  let t: number;
  if (zone === undefined) {
    t = naiveZone === 'local' ? new Date(...parts).getTime() : Date.UTC(...parts);
  } else {
    t = Date.UTC(...parts);
    if (zone !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
    }
  }
  // Date.UTC maps years 0-99 to 1900-1999; Go's zero time (year 1) must stay year 1.
  const date = new Date(t);
  if (Number(y) < 100) date.setUTCFullYear(date.getUTCFullYear() - 1900);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
