/**
 * Synthetic raw logs (DATA.md "Synthetic data"); the model is described in data/GENERATOR.md.
 * `generateUsers` is pure; `generateToFiles` streams the rows and the truth file to disk.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { rocAuc } from '../ml/metrics';
import { Rng } from './random';
import { calibrateIntercept, drawPurchase, makeContext, simulateUser, trueProbability } from './generator-model';

export interface GenerateOptions {
  users: number;
  /** @default 42 */
  seed: number;
  /** Target share of positive labels on normal data (drift lowers it). @default 0.2 */
  baseRate: number;
  /** Shift hours, ages, visit lengths, screen mix and conversion (for monitor tests). @default false */
  drift: boolean;
  /** First day (UTC), ISO date. @default '2026-01-01' */
  start: string;
  /** Number of days first opens spread over. @default 30 */
  days: number;
  /** First numeric user id; ids are consecutive. @default 1_000_000, or 9_000_000 with drift so both sets can share a store */
  firstId: number;
}

export interface GeneratedRow {
  row: string;
  pTrue: number;
  userId: string;
  label: 0 | 1;
}

/** CSV header of generated files: DATA.md's canonical columns plus two 0/1 pass-through columns. */
export const GENERATED_COLUMNS = ['user_id', 'first_open', 'screen_list', 'age', 'numscreens', 'purchase_date', 'minigame', 'liked'] as const;

/** Highest base rate the model can reach: every user buys, 15 % of them after 24 h. */
const MAX_BASE_RATE = 0.8;

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
  if (!Number.isSafeInteger(o.firstId) || o.firstId < 0) throw new RangeError(`firstId must be a non-negative integer, got ${o.firstId}`);
  return o;
}

/** `YYYY-MM-DD HH:MM:SS.fff` in UTC, the SQL style DATA.md accepts. */
function formatTs(t: number): string {
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/**
 * Yields data rows (no header; see GENERATED_COLUMNS) with each user's true probability and
 * realised label. Same options → same rows, byte for byte.
 */
export function* generateUsers(opts: Partial<GenerateOptions> & { users: number }): Generator<GeneratedRow> {
  const o = resolveOptions(opts);
  const startMs = Date.parse(`${o.start}T00:00:00Z`);
  const b0 = calibrateIntercept(o.baseRate, o.seed, startMs, o.days);
  const ctx = makeContext(o.drift, startMs, o.days);
  const rng = new Rng(o.seed);
  for (let i = 0; i < o.users; i++) {
    const u = simulateUser(rng, ctx);
    const purchase = drawPurchase(rng, b0, u);
    const label: 0 | 1 = purchase !== null && purchase - u.firstOpen <= 86_400_000 ? 1 : 0;
    const userId = String(o.firstId + i);
    const row = `${userId},${formatTs(u.firstOpen)},"${u.screens.join(',')}",${u.age ?? ''},${u.screens.length},` +
      `${purchase === null ? '' : formatTs(purchase)},${u.minigame},${u.liked}`;
    yield { row, pTrue: trueProbability(b0, u.score), userId, label };
  }
}

export interface GenerateSummary {
  users: number;
  positives: number;
  baseRate: number;
  /** ROC AUC of the true probability against the realised label: the best any model can do. */
  oracleAuc: number;
  out: string;
  truthFile: string;
}

async function writeChunk(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/**
 * Writes `out` (the CSV) and `<out>.truth.csv` (user_id,p_true,label; p_true rounded to 6
 * decimals, and oracleAuc is computed on the rounded values so the file reproduces it).
 */
export async function generateToFiles(opts: Partial<GenerateOptions> & { users: number; out: string }): Promise<GenerateSummary> {
  const o = resolveOptions(opts);
  const truthFile = `${opts.out}.truth.csv`;
  const csv = createWriteStream(opts.out);
  const truth = createWriteStream(truthFile);
  const p = new Float64Array(o.users);
  const y = new Uint8Array(o.users);
  let rows: string[] = [`${GENERATED_COLUMNS.join(',')}\n`];
  let truths: string[] = ['user_id,p_true,label\n'];
  let i = 0;
  try {
    for (const r of generateUsers(o)) {
      const pt = Math.round(r.pTrue * 1e6) / 1e6;
      p[i] = pt;
      y[i++] = r.label;
      rows.push(r.row, '\n');
      truths.push(`${r.userId},${pt.toFixed(6)},${r.label}\n`);
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
  let positives = 0;
  for (let k = 0; k < y.length; k++) positives += y[k];
  const oracleAuc = positives > 0 && positives < y.length ? rocAuc(y, p) : Number.NaN;
  return { users: o.users, positives, baseRate: positives / o.users, oracleAuc, out: opts.out, truthFile };
}
