/**
 * Synthetic raw logs (DATA.md "Synthetic data"); the model is described in data/GENERATOR.md.
 * `generateUsers` is pure; `generateToFiles` streams the rows and the truth file to disk.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { rocAuc } from '../ml/metrics';
import { seededRng, type Rng } from '../ml/rng';
import {
  CONVERSION_RATE_FACTOR, SHIFTS, calibrateIntercept, drawPurchase, makeContext, simulateUser, trueProbability,
  type ModelContext, type Shift, type SimUser,
} from './generator-model';

export { SHIFTS, type Shift } from './generator-model';

export interface GenerateOptions {
  users: number;
  /** @default 42 */
  seed: number;
  /** Target share of positive labels on normal data (drift lowers it). @default 0.2 */
  baseRate: number;
  /** Shift hours, ages, visit lengths, screen mix and conversion (for monitor tests). @default false */
  drift: boolean;
  /**
   * Shift one mechanism only (data/GENERATOR.md "Partial shifts"): `behaviour` = the screen mix,
   * `conversion` = the purchase rate. Not together with `drift`. @default none
   */
  shift?: Shift;
  /** First day (UTC), ISO date. @default '2026-01-01' */
  start: string;
  /** Number of days first opens spread over. @default 30 */
  days: number;
  /** First numeric user id; ids are consecutive. @default 1_000_000, or 9_000_000 with drift so both sets can share a store */
  firstId: number;
  /**
   * Observation time of the export (epoch ms, right-censoring): users whose first_open is after it
   * are left out, purchases after it are written empty. At most one of `asOf` and `cutoffHours`.
   * @default none (every purchase is written: the eventual outcome)
   */
  asOf?: number;
  /** Cut-off relative to the data: asOf = latest first_open of the generated users + cutoffHours h (0 = at the last first_open). */
  cutoffHours?: number;
}

export interface GeneratedRow {
  row: string;
  pTrue: number;
  userId: string;
  /** The eventual label (purchase within 24 h of first_open), whether or not the purchase is before the cut-off. */
  label: 0 | 1;
  /** 1 when, at the cut-off, the user has no purchase yet and the 24 h window is still open; always 0 without a cut-off. */
  pending: 0 | 1;
  /** first_open, epoch ms. */
  firstOpen: number;
  /** The eventual purchase time (epoch ms), whether or not it is before the cut-off; null = never buys. */
  purchaseAt: number | null;
}

/** CSV header of generated files: DATA.md's canonical columns plus two 0/1 pass-through columns. */
export const GENERATED_COLUMNS = ['user_id', 'first_open', 'screen_list', 'age', 'numscreens', 'purchase_date', 'minigame', 'liked'] as const;

/** Highest base rate the model can reach: every user buys, 15 % of them after 24 h. */
const MAX_BASE_RATE = 0.8;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Largest |epoch ms| a Date can hold (ECMA-262 time value range). */
const MAX_TIME_MS = 8.64e15;

export function resolveOptions(opts: Partial<GenerateOptions> & { users: number }): GenerateOptions {
  const o: GenerateOptions = {
    seed: 42, baseRate: 0.2, drift: false, start: '2026-01-01', days: 30, ...opts,
    firstId: opts.firstId ?? (opts.drift ? 9_000_000 : 1_000_000),
  };
  if (!Number.isInteger(o.users) || o.users < 1) throw new RangeError(`users must be a positive integer, got ${o.users}`);
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${o.seed}`);
  if (!(o.baseRate > 0 && o.baseRate <= MAX_BASE_RATE)) {
    throw new RangeError(`baseRate must be in (0, ${MAX_BASE_RATE}], got ${o.baseRate}`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.start) || Number.isNaN(Date.parse(`${o.start}T00:00:00Z`))) {
    throw new RangeError(`start must be an ISO date YYYY-MM-DD, got ${JSON.stringify(o.start)}`);
  }
  if (!Number.isInteger(o.days) || o.days < 1) throw new RangeError(`days must be a positive integer, got ${o.days}`);
  if (o.shift !== undefined && !SHIFTS.includes(o.shift)) throw new RangeError(`shift must be one of ${SHIFTS.join(', ')}, got ${JSON.stringify(o.shift)}`);
  if (o.shift !== undefined && o.drift) throw new RangeError(`shift and drift are mutually exclusive (drift already shifts everything), got shift ${o.shift}`);
  if (!Number.isSafeInteger(o.firstId) || o.firstId < 0) throw new RangeError(`firstId must be a non-negative integer, got ${o.firstId}`);
  if (o.asOf !== undefined && o.cutoffHours !== undefined) {
    throw new RangeError(`asOf and cutoffHours are mutually exclusive, got asOf ${o.asOf} and cutoffHours ${o.cutoffHours}`);
  }
  if (o.asOf !== undefined && !(Number.isFinite(o.asOf) && Math.abs(o.asOf) <= MAX_TIME_MS)) {
    throw new RangeError(`asOf must be a finite epoch ms within the Date range, got ${o.asOf}`);
  }
  if (o.cutoffHours !== undefined) {
    // first_open < start + days, so this bound keeps asOf a valid Date without a first pass.
    const latestAsOf = Date.parse(`${o.start}T00:00:00Z`) + o.days * DAY_MS + o.cutoffHours * HOUR_MS;
    if (!(Number.isFinite(o.cutoffHours) && o.cutoffHours >= 0) || !(latestAsOf <= MAX_TIME_MS)) {
      throw new RangeError(`cutoffHours must be a finite number >= 0 that keeps asOf within the Date range, got ${o.cutoffHours}`);
    }
  }
  return o;
}

/** `YYYY-MM-DD HH:MM:SS.fff` in UTC, the SQL style DATA.md accepts. */
function formatTs(t: number): string {
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

interface Drawn {
  u: SimUser;
  purchase: number | null;
}

/** One user and its purchase time: the only draw sequence, shared by every pass so the stream never forks. */
function drawUser(rng: Rng, ctx: ModelContext, b0: number): Drawn {
  const u = simulateUser(rng, ctx);
  return { u, purchase: drawPurchase(rng, b0, u) };
}

interface Prepared {
  o: GenerateOptions;
  b0: number;
  ctx: ModelContext;
}

function prepare(opts: Partial<GenerateOptions> & { users: number }): Prepared {
  const o = resolveOptions(opts);
  const startMs = Date.parse(`${o.start}T00:00:00Z`);
  // Shift `conversion`: the same calibration aimed at a third fewer buyers, i.e. only the intercept moves.
  const rate = o.shift === 'conversion' ? o.baseRate * CONVERSION_RATE_FACTOR : o.baseRate;
  return { o, b0: calibrateIntercept(rate, o.seed, startMs, o.days), ctx: makeContext(o.drift, startMs, o.days, o.shift ?? null) };
}

function latestFirstOpenOf({ o, b0, ctx }: Prepared): number {
  const rng = seededRng(o.seed);
  let latest = -Infinity;
  for (let i = 0; i < o.users; i++) {
    const { u } = drawUser(rng, ctx, b0);
    if (u.firstOpen > latest) latest = u.firstOpen;
  }
  return latest;
}

function asOfOf(p: Prepared): number | null {
  if (p.o.asOf !== undefined) return p.o.asOf;
  if (p.o.cutoffHours === undefined) return null;
  return latestFirstOpenOf(p) + p.o.cutoffHours * HOUR_MS;
}

/**
 * Latest first_open (epoch ms) among the users these options generate, ignoring any cut-off.
 * Users are not drawn in first_open order, so this is a full pass of the same deterministic stream.
 */
export function latestFirstOpen(opts: Partial<GenerateOptions> & { users: number }): number {
  return latestFirstOpenOf(prepare(opts));
}

/** The export's observation time for these options (epoch ms), or null without a cut-off. `cutoffHours` costs one pass. */
export function resolveAsOf(opts: Partial<GenerateOptions> & { users: number }): number | null {
  return asOfOf(prepare(opts));
}

/**
 * Yields data rows (no header; see GENERATED_COLUMNS) with each user's true probability and
 * eventual label. Same options → same rows, byte for byte. With a cut-off (`asOf` or
 * `cutoffHours`) users who first open after asOf are skipped (the others keep their ids, so ids
 * have gaps) and a purchase after asOf is written empty; everything is still drawn in the same
 * order, so the remaining bytes equal those of the run without a cut-off.
 */
export function* generateUsers(opts: Partial<GenerateOptions> & { users: number }): Generator<GeneratedRow> {
  const p = prepare(opts);
  yield* rowsOf(p, asOfOf(p));
}

function* rowsOf({ o, b0, ctx }: Prepared, asOf: number | null): Generator<GeneratedRow> {
  const rng = seededRng(o.seed);
  for (let i = 0; i < o.users; i++) {
    const { u, purchase } = drawUser(rng, ctx, b0);
    if (asOf !== null && u.firstOpen > asOf) continue; // not in the export yet
    const label: 0 | 1 = purchase !== null && purchase - u.firstOpen <= DAY_MS ? 1 : 0;
    const seen = asOf === null || purchase === null || purchase <= asOf ? purchase : null;
    const pending: 0 | 1 = asOf !== null && seen === null && asOf - u.firstOpen < DAY_MS ? 1 : 0;
    const userId = String(o.firstId + i);
    const row = `${userId},${formatTs(u.firstOpen)},"${u.screens.join(',')}",${u.age ?? ''},${u.screens.length},` +
      `${seen === null ? '' : formatTs(seen)},${u.minigame},${u.liked}`;
    yield { row, pTrue: trueProbability(b0, u.score), userId, label, pending, firstOpen: u.firstOpen, purchaseAt: purchase };
  }
}

export interface GenerateSummary {
  /** Exported users (with a cut-off, those who first opened by asOf). */
  users: number;
  /** Eventual positives among the exported users (the truth file's label). */
  positives: number;
  /** positives / users; NaN when the cut-off leaves no user. */
  baseRate: number;
  /** ROC AUC of the true probability against the realised label: the best any model can do. */
  oracleAuc: number;
  out: string;
  truthFile: string;
  /** Observation time of the export (epoch ms), or null without a cut-off. */
  asOf: number | null;
  /** Exported users whose 24 h window is still open at asOf with no purchase yet (truth column `pending`). */
  pending: number;
}

async function writeChunk(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/**
 * Writes `out` (the CSV) and `<out>.truth.csv` (user_id,p_true,label,pending; p_true rounded to 6
 * decimals, and oracleAuc is computed on the rounded values so the file reproduces it). `label` is
 * the eventual label even for users the cut-off leaves pending; `pending` is 0 without a cut-off.
 */
export async function generateToFiles(opts: Partial<GenerateOptions> & { users: number; out: string }): Promise<GenerateSummary> {
  const prepared = prepare(opts);
  const { o } = prepared;
  const asOf = asOfOf(prepared); // with cutoffHours, the first pass
  const truthFile = `${opts.out}.truth.csv`;
  const csv = createWriteStream(opts.out);
  const truth = createWriteStream(truthFile);
  const p = new Float64Array(o.users);
  const y = new Uint8Array(o.users);
  let rows: string[] = [`${GENERATED_COLUMNS.join(',')}\n`];
  let truths: string[] = ['user_id,p_true,label,pending\n'];
  let i = 0;
  let pending = 0;
  try {
    for (const r of rowsOf(prepared, asOf)) {
      const pt = Math.round(r.pTrue * 1e6) / 1e6;
      p[i] = pt;
      y[i++] = r.label;
      pending += r.pending;
      rows.push(r.row, '\n');
      truths.push(`${r.userId},${pt.toFixed(6)},${r.label},${r.pending}\n`);
      if (rows.length >= 8192) {
        await writeChunk(csv, rows.join(''));
        await writeChunk(truth, truths.join(''));
        rows = [];
        truths = [];
      }
    }
    await writeChunk(csv, rows.join(''));
    await writeChunk(truth, truths.join(''));
  } finally {
    await Promise.all([close(csv), close(truth)]);
  }
  const yy = y.subarray(0, i);
  let positives = 0;
  for (let k = 0; k < i; k++) positives += yy[k];
  const oracleAuc = positives > 0 && positives < i ? rocAuc(yy, p.subarray(0, i)) : Number.NaN;
  return { users: i, positives, baseRate: i > 0 ? positives / i : Number.NaN, oracleAuc, out: opts.out, truthFile, asOf, pending };
}
