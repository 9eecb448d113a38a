/**
 * The replay's data: one CSV export per simulated day, taken at the end of that day, with the
 * truth kept beside it (sim/README.md). Pure apart from `writeDayExport`, which writes the file.
 *
 * Day d's file holds the users who first opened on day d plus the previous day's users again:
 * the previous day's users re-observed a day later, so their purchases hidden yesterday now show
 * (every window of day d − 1 has closed by the end of day d). Day 0 is a backlog of
 * `historyDays` days that day 1's file carries, so the first model has matured users of both
 * classes to learn from (at the end of day 1 every non-buyer of day 1 is still pending).
 */
import { fmix32 } from '../data/split';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GENERATED_COLUMNS, SHIFTS, generateUsers, type GenerateOptions, type GeneratedRow, type Shift } from '../data/generator';

const DAY_MS = 86_400_000;
/** Ids start here and run on without gaps across cohorts (history first, then day 1, 2, …). */
const FIRST_ID = 1_000_000;

export interface SimDataOptions {
  /** Simulated days. @default 30 */
  days: number;
  /** New users per day (the history has this many per history day). @default 2000 */
  usersPerDay: number;
  /** First day whose new users are shifted (1-based), or null for no shift. @default 18 */
  shiftDay: number | null;
  /** @default 'behaviour' */
  shift: Shift;
  /** @default 42 */
  seed: number;
  /** Days of backlog carried by day 1's file (day 0). @default 3 */
  historyDays: number;
  /** Date (UTC) of day 1. @default '2026-01-05' */
  start: string;
  /** The generator's base rate on normal days. @default 0.2 */
  baseRate: number;
}

export const SIM_DATA_DEFAULTS: SimDataOptions = {
  days: 30, usersPerDay: 2000, shiftDay: 18, shift: 'behaviour', seed: 42, historyDays: 3, start: '2026-01-05', baseRate: 0.2,
};

/** One user as the truth knows it. */
export interface TruthUser {
  userId: string;
  /** Cohort: 0 = history, else the day of first_open. */
  day: number;
  firstOpen: number;
  /** Eventual label: a purchase within 24 h of first_open. */
  label: 0 | 1;
  pTrue: number;
  /** Eventual purchase time (epoch ms), null = never buys. */
  purchaseAt: number | null;
  /** The uncut CSV row (every purchase written): what features and predict requests are built from. */
  row: string;
}

export interface DayExport {
  day: number;
  /** Date (UTC) of the day, YYYY-MM-DD. */
  date: string;
  /** Observation time of the file: the end of the day (epoch ms). */
  asOf: number;
  /** Whether this day's new users are shifted. */
  shifted: boolean;
  /** Header and rows, cut at asOf (later purchases empty). */
  csv: string;
  /** Users who first opened on this day. */
  newUsers: TruthUser[];
  /** The previous day's users (day 1: the history), re-observed in this file. */
  carriedUsers: TruthUser[];
  /** Rows of the file still inside their 24 h window at asOf (bought or not): ingest holds them pending. */
  pending: number;
}

function checkInt(name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${v}`);
}

/** Merges over SIM_DATA_DEFAULTS and validates; a bad value is a RangeError naming it. */
export function resolveSimDataOptions(opts: Partial<SimDataOptions> = {}): SimDataOptions {
  const o: SimDataOptions = { ...SIM_DATA_DEFAULTS, ...opts };
  checkInt('days', o.days, 1, 3650);
  checkInt('usersPerDay', o.usersPerDay, 1, 10_000_000);
  checkInt('historyDays', o.historyDays, 0, 365);
  checkInt('seed', o.seed, 0, 2 ** 31 - 1);
  if (o.shiftDay !== null) checkInt('shiftDay', o.shiftDay, 1, o.days);
  if (!SHIFTS.includes(o.shift)) throw new RangeError(`shift must be one of ${SHIFTS.join(', ')}, got ${JSON.stringify(o.shift)}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.start) || Number.isNaN(Date.parse(`${o.start}T00:00:00Z`))) {
    throw new RangeError(`start must be an ISO date YYYY-MM-DD, got ${JSON.stringify(o.start)}`);
  }
  if (!(o.baseRate > 0 && o.baseRate < 0.8)) throw new RangeError(`baseRate must be in (0, 0.8), got ${o.baseRate}`);
  return o;
}

/** Start (00:00 UTC) of day d, epoch ms; day 1 starts at `start`. */
export function dayStart(o: SimDataOptions, d: number): number {
  return Date.parse(`${o.start}T00:00:00Z`) + (d - 1) * DAY_MS;
}

/** 32-bit mix of two integers (MurmurHash3's finaliser over a FNV-style combine): independent streams per day. */
function mix(a: number, b: number): number {
  return fmix32((Math.imul(a ^ 0x811c9dc5, 0x01000193) ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b)) >>> 0);
}

/** The generator seed of cohort d (0 = history), derived from the replay's seed. */
export function cohortSeed(seed: number, d: number): number {
  return mix(seed, d) & 0x7fffffff;
}

/** Whether cohort d (0 = history) is generated with the shift. */
export function isShifted(o: SimDataOptions, d: number): boolean {
  return o.shiftDay !== null && d >= o.shiftDay;
}

/** Generator options of cohort d (0 = history, over `historyDays` days before day 1), without a cut-off. */
export function cohortOptions(o: SimDataOptions, d: number): Partial<GenerateOptions> & { users: number } {
  const history = o.usersPerDay * o.historyDays;
  const base = { seed: cohortSeed(o.seed, d), baseRate: o.baseRate };
  if (d === 0) {
    return { ...base, users: history, days: o.historyDays, firstId: FIRST_ID, start: new Date(dayStart(o, 1 - o.historyDays)).toISOString().slice(0, 10) };
  }
  return {
    ...base, users: o.usersPerDay, days: 1, firstId: FIRST_ID + history + (d - 1) * o.usersPerDay,
    start: new Date(dayStart(o, d)).toISOString().slice(0, 10), ...(isShifted(o, d) ? { shift: o.shift } : {}),
  };
}

function cohort(o: SimDataOptions, d: number, asOf: number): { cut: GeneratedRow[]; truth: TruthUser[] } {
  const opts = cohortOptions(o, d);
  const truth = Array.from(generateUsers(opts), (r): TruthUser => ({
    userId: r.userId, day: d, firstOpen: r.firstOpen, label: r.label, pTrue: r.pTrue, purchaseAt: r.purchaseAt, row: r.row,
  }));
  return { cut: Array.from(generateUsers({ ...opts, asOf })), truth };
}

/**
 * Day d's export (1 ≤ d ≤ days): the previous cohort re-observed and day d's new users, both cut
 * at the end of day d, with their truth. Same options → same bytes.
 */
export function buildDayExport(opts: SimDataOptions, d: number): DayExport {
  const o = resolveSimDataOptions(opts);
  checkInt('day', d, 1, o.days);
  const asOf = dayStart(o, d) + DAY_MS;
  const prev = d > 1 || o.historyDays > 0 ? cohort(o, d - 1, asOf) : { cut: [], truth: [] };
  const now = cohort(o, d, asOf);
  const rows = [...prev.cut, ...now.cut];
  return {
    day: d,
    date: new Date(dayStart(o, d)).toISOString().slice(0, 10),
    asOf,
    shifted: isShifted(o, d),
    csv: `${GENERATED_COLUMNS.join(',')}\n${rows.map((r) => `${r.row}\n`).join('')}`,
    newUsers: now.truth,
    carriedUsers: prev.truth,
    pending: rows.reduce((s, r) => s + (asOf - r.firstOpen < DAY_MS ? 1 : 0), 0),
  };
}

/** Writes day d's CSV as `<dir>/day-NN.csv`; returns the path. */
export async function writeDayExport(dir: string, exp: DayExport): Promise<string> {
  const path = join(dir, `day-${String(exp.day).padStart(2, '0')}.csv`);
  await writeFile(path, exp.csv);
  return path;
}

/**
 * A deterministic share of users: true for about `share` of ids, the same answer for the same
 * (seed, salt, id). Different salts give independent samples (who is scored, who reports back).
 */
export function inShare(seed: number, salt: number, userId: string, share: number): boolean {
  let h = mix(seed, salt);
  for (let i = 0; i < userId.length; i++) h = mix(h, userId.charCodeAt(i));
  return h / 4294967296 < share;
}
