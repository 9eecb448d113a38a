/**
 * Timestamp parsing without a date library: ISO 8601 or SQL style (`YYYY-MM-DD HH:MM:SS[.fff]`),
 * wall times interpreted in an IANA zone through Intl.
 */

export type TimestampFormat = 'iso' | 'sql' | 'auto';

// Groups: date, separator, time (optional), fraction, offset. Fractions beyond ms are truncated.
const PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:([T ])(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCaches = new Map<string, Map<number, number>>();
const OFFSET_BUCKET_MS = 15 * 60 * 1000; // zone transitions fall on quarter hours in tzdata since 1970
const DAY_MS = 86_400_000;

/** True when `tz` is an IANA zone name Intl knows. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

function computeOffset(tz: string, t: number): number {
  const parts = formatterFor(tz).formatToParts(new Date(t));
  const v: Record<string, number> = {};
  for (const p of parts) if (p.type !== 'literal') v[p.type] = Number(p.value);
  const wall = Date.UTC(v.year, v.month - 1, v.day, v.hour, v.minute, v.second);
  return wall - (t - (((t % 1000) + 1000) % 1000));
}

/** Offset (ms, local minus UTC) of `tz` at instant `t`. Cached per quarter hour. */
export function zoneOffset(tz: string, t: number): number {
  if (tz === 'UTC') return 0;
  let cache = offsetCaches.get(tz);
  if (!cache) offsetCaches.set(tz, (cache = new Map()));
  const bucket = Math.floor(t / OFFSET_BUCKET_MS);
  let off = cache.get(bucket);
  if (off === undefined) {
    if (cache.size > 50_000) cache.clear(); // bounded memory on long streams
    off = computeOffset(tz, bucket * OFFSET_BUCKET_MS);
    cache.set(bucket, off);
  }
  return off;
}

/**
 * Converts a wall-clock time (given as if it were UTC ms) in `tz` to an instant, with the
 * 'compatible' disambiguation of TC39 Temporal: a repeated time (DST fall-back) takes the earlier
 * instant, a skipped time (spring-forward gap) is moved forward by the gap length.
 */
export function wallToInstant(wall: number, tz: string): number {
  if (tz === 'UTC') return wall;
  // Assumes at most one transition within ±1 day, true for every zone in tzdata.
  const before = zoneOffset(tz, wall - DAY_MS);
  const after = zoneOffset(tz, wall + DAY_MS);
  const t1 = wall - before;
  if (before === after) return t1;
  const t2 = wall - after;
  const ok1 = zoneOffset(tz, t1) === before;
  const ok2 = zoneOffset(tz, t2) === after;
  if (ok1 && ok2) return Math.min(t1, t2);
  if (ok1) return t1;
  if (ok2) return t2;
  return t1; // gap: keep the pre-transition offset, i.e. shift forward
}

const ZERO = 48;
/** Value of the `n` decimal digits at `s[i ..]`, or -1 when one of them is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const d = s.charCodeAt(k) - ZERO;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The shapes clients actually send, `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z]`, read char by char
 * (no regex groups, no substrings). Returns undefined for any other text, which then goes
 * through the full pattern: the fast path only decides what it is certain about.
 */
function parseCommon(text: string, tz: string, format: TimestampFormat): number | null | undefined {
  const n = text.length;
  if (n < 19 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined;
  const sep = text.charCodeAt(10);
  if (sep !== 32 && sep !== 84) return undefined; // ' ' or 'T'
  const y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2);
  const h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2);
  // years below 100 take Date.UTC's 19xx reading in the full path; leave them to it
  if (y < 100 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return undefined;
  let i = 19;
  let ms = 0;
  const dot = text.charCodeAt(i);
  if (dot === 46 || dot === 44) { // '.' or ','
    let k = i + 1;
    while (k < n && k - i <= 9) {
      const c = text.charCodeAt(k) - ZERO;
      if (c < 0 || c > 9) break;
      if (k - i <= 3) ms += c * (k - i === 1 ? 100 : k - i === 2 ? 10 : 1);
      k++;
    }
    if (k === i + 1) return undefined;
    i = k;
  }
  const zulu = i === n - 1 && text.charCodeAt(i) === 90; // 'Z'
  if (i !== n && !zulu) return undefined;
  if (format === 'iso' && sep === 32) return null;
  if (format === 'sql' && (sep !== 32 || zulu)) return null;
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  if (d > 28 && d > daysInMonth(y, mo)) return null; // rejects 2026-02-30
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  return zulu ? wall : wallToInstant(wall, tz);
}

function daysInMonth(y: number, mo: number): number {
  if (mo !== 2) return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
}

/**
 * Parses a timestamp to epoch ms, or returns null when it is not a valid ISO 8601 /
 * SQL-style timestamp. An explicit `Z`/offset wins over `tz`; otherwise the wall time is in `tz`.
 * `format: 'iso'` requires the `T` separator (or a date only), `'sql'` a space and no offset.
 */
export function parseTimestamp(text: string, tz = 'UTC', format: TimestampFormat = 'auto'): number | null {
  const fast = parseCommon(text, tz, format);
  return fast !== undefined ? fast : parseTimestampFull(text, tz, format);
}

/** The complete grammar of `parseTimestamp` through one regular expression; the reference its fast path is tested against. */
export function parseTimestampFull(text: string, tz = 'UTC', format: TimestampFormat = 'auto'): number | null {
  const m = PATTERN.exec(text.trim());
  if (!m) return null;
  const [, ys, mos, ds, sep, hs, mis, ss, frac, offset] = m;
  if (format === 'iso' && sep === ' ') return null;
  if (format === 'sql' && (sep !== ' ' || offset !== undefined)) return null;
  const y = Number(ys), mo = Number(mos), d = Number(ds);
  const h = hs === undefined ? 0 : Number(hs), mi = mis === undefined ? 0 : Number(mis);
  const s = ss === undefined ? 0 : Number(ss);
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (new Date(wall).getUTCDate() !== d || y < 1) return null; // rejects 2026-02-30
  if (offset === undefined) return wallToInstant(wall, tz);
  if (offset === 'Z') return wall;
  const sign = offset[0] === '-' ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const offH = Number(digits.slice(0, 2)), offM = Number(digits.slice(2));
  if (offH > 23 || offM > 59) return null;
  return wall - sign * (offH * 60 + offM) * 60_000;
}

/** Local wall time of an instant in `tz`, as ms since the epoch "as if UTC". */
export function toLocalMs(t: number, tz: string): number {
  return t + zoneOffset(tz, t);
}

/** Local calendar fields of an instant in `tz`: hour 0–23, weekday 0 = Sunday … 6 = Saturday. */
export function localHourAndWeekday(t: number, tz: string): { hour: number; weekday: number } {
  const local = toLocalMs(t, tz);
  const dayIndex = Math.floor(local / DAY_MS);
  const hour = Math.floor((local - dayIndex * DAY_MS) / 3_600_000);
  const weekday = (((dayIndex + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
  return { hour, weekday };
}
