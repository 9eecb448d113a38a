/**
 * Population Stability Index over quantile bins of the training snapshot.
 *
 * Bins: `edges` are the ascending, distinct inner cut points; bin 0 is (-inf, edges[0]], bin i is
 * (edges[i-1], edges[i]], the last bin is (edges[last], +inf). Ties collapse duplicate quantiles, so
 * a 0/1 feature gets two populated bins instead of ten, and values outside the training range still
 * land in the open-ended first or last bin. NaN values are skipped.
 */
import { assertRowIndex, gatherColumn, type RowIndex } from './matrix';

export interface ReferenceHistogram {
  feature: string;
  edges: number[];
  proportions: number[];
}

/** Industry rule of thumb (Siddiqi, "Credit Risk Scorecards", 2006): < 0.1 stable, 0.1–0.25 some shift, >= 0.25 major shift. */
export const PSI_THRESHOLDS = { warning: 0.1, drift: 0.25 } as const;

/**
 * Proportion floor for empty bins. Without it ln(0) makes PSI infinite; 1e-4 is the usual choice
 * and caps one empty bin's contribution at about (p - 1e-4) * ln(p / 1e-4).
 */
export const PSI_EPSILON = 1e-4;

export type DriftLevel = 'ok' | 'warning' | 'drift';

function binOf(edges: number[], v: number): number {
  let lo = 0, hi = edges.length; // first edge >= v
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function proportions(edges: number[], values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    counts[binOf(edges, v)]++;
    n++;
  }
  if (n === 0) throw new RangeError('no non-NaN values to bin');
  return counts.map((c) => c / n);
}

function column(X: Float64Array, rows: number, cols: number, j: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = X[i * cols + j];
  return out;
}

function checkMatrix(names: string[], X: Float64Array, rows: number): number {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`rows must be a positive integer, got ${rows}`);
  if (names.length === 0 || X.length !== rows * names.length) {
    throw new RangeError(`X has length ${X.length}, expected rows (${rows}) × names (${names.length})`);
  }
  return names.length;
}

/**
 * The sorted non-NaN values of one column, as a histogram needs them: how many, the value at a
 * rank, and how many fall in each bin of given edges. Held as the values themselves, or as each
 * distinct value with its count (a column of small counts: a few bytes instead of 8 per row).
 */
interface SortedValues {
  n: number;
  at(rank: number): number;
  binCounts(edges: number[]): number[];
}

function sortedArray(sorted: Float64Array): SortedValues {
  return {
    n: sorted.length,
    at: (rank) => sorted[rank]!,
    binCounts: (edges) => {
      const counts = new Array<number>(edges.length + 1).fill(0);
      for (let i = 0; i < sorted.length; i++) counts[binOf(edges, sorted[i]!)]++;
      return counts;
    },
  };
}

function sortedCounts(counts: Map<number, number>): SortedValues {
  const values = Float64Array.from(counts.keys()).sort();
  const cum = new Float64Array(values.length);
  let n = 0;
  values.forEach((v, i) => (cum[i] = n += counts.get(v)!));
  return {
    n,
    at: (rank) => {
      let lo = 0, hi = values.length - 1; // first distinct value whose cumulative count passes rank
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid]! > rank) hi = mid;
        else lo = mid + 1;
      }
      return values[lo]!;
    },
    binCounts: (edges) => {
      const out = new Array<number>(edges.length + 1).fill(0);
      for (const v of values) out[binOf(edges, v)] += counts.get(v)!;
      return out;
    },
  };
}

/** Quantile edges and proportions of one column's sorted values (see referenceHistograms). */
function histogramOf(feature: string, col: SortedValues, bins: number): ReferenceHistogram {
  const edges: number[] = [];
  if (col.n === 0) return { feature, edges, proportions: [1] };
  for (let b = 1; b < bins; b++) {
    const q = col.at(Math.min(col.n - 1, Math.floor((b * col.n) / bins)));
    if (edges.length === 0 || q > edges[edges.length - 1]) edges.push(q);
  }
  // The top bin must hold the maximum's mass; a lone edge at the max would leave it empty.
  const max = col.at(col.n - 1);
  if (edges.length === 0 || edges[edges.length - 1] < max) edges.push(max);
  return { feature, edges, proportions: col.binCounts(edges).map((c) => c / col.n) };
}

/**
 * Reference histograms of every column of a row-major matrix, with quantile edges; with `at`, of
 * the rows `at` of the matrix (read in place).
 * @param bins target number of bins, fewer when quantiles tie. @default 10
 */
export function referenceHistograms(names: string[], X: Float64Array, rows: number, bins = 10, at?: RowIndex): ReferenceHistogram[] {
  if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`bins must be an integer >= 2, got ${bins}`);
  const cols = checkMatrix(names, X, rows);
  const M = { data: X, rows, cols };
  if (at) assertRowIndex(M, at);
  const buf = new Float64Array(at ? at.length : rows);
  return names.map((feature, j) => histogramOf(feature, sortedArray(gatherColumn(M, j, buf, at).filter((v) => !Number.isNaN(v)).sort()), bins));
}

/** Distinct values a sketch column counts before it keeps the values themselves. */
const SKETCH_DISTINCT_MAX = 4096;

/**
 * {@link referenceHistograms} of rows seen a chunk at a time (the snapshot transforms its users
 * in chunks and never holds the whole matrix): each column counts its distinct values, or keeps
 * its values once it has more than SKETCH_DISTINCT_MAX distinct ones. The histograms are exactly
 * those of the matrix of every row added (a test holds the two to the same result).
 */
export class ReferenceSketch {
  private readonly counts: (Map<number, number> | null)[];
  private readonly values: (Float64Array | null)[];
  private readonly sizes: number[];

  constructor(private readonly names: readonly string[]) {
    this.counts = names.map(() => new Map());
    this.values = names.map(() => null);
    this.sizes = names.map(() => 0);
  }

  /** Adds row `r` of a row-major chunk with one column per name. */
  addRow(chunk: Float64Array, r: number): void {
    const cols = this.names.length;
    for (let j = 0; j < cols; j++) {
      const v = chunk[r * cols + j]!;
      if (Number.isNaN(v)) continue;
      const m = this.counts[j];
      if (m) {
        m.set(v, (m.get(v) ?? 0) + 1);
        if (m.size > SKETCH_DISTINCT_MAX) this.spill(j, m);
      } else this.push(j, v);
    }
  }

  private spill(j: number, m: Map<number, number>): void {
    this.counts[j] = null;
    for (const [v, c] of m) for (let k = 0; k < c; k++) this.push(j, v);
  }

  private push(j: number, v: number): void {
    let a = this.values[j];
    if (!a || this.sizes[j] === a.length) {
      const b = new Float64Array(Math.max(1024, (a?.length ?? 0) * 2));
      if (a) b.set(a);
      this.values[j] = a = b;
    }
    a[this.sizes[j]!++] = v;
  }

  histograms(bins = 10): ReferenceHistogram[] {
    if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`bins must be an integer >= 2, got ${bins}`);
    return this.names.map((feature, j) => {
      const m = this.counts[j];
      if (m) return histogramOf(feature, sortedCounts(m), bins);
      return histogramOf(feature, sortedArray(this.values[j]!.slice(0, this.sizes[j]).sort()), bins);
    });
  }
}

/** PSI = Σ (cur − ref) · ln(cur / ref) over bins, both floored at {@link PSI_EPSILON}. */
export function psi(ref: ReferenceHistogram, values: Float64Array | number[]): { psi: number; current: number[] } {
  const current = proportions(ref.edges, values);
  let total = 0;
  for (let b = 0; b < current.length; b++) {
    const r = Math.max(ref.proportions[b] ?? 0, PSI_EPSILON);
    const c = Math.max(current[b], PSI_EPSILON);
    total += (c - r) * Math.log(c / r);
  }
  return { psi: total, current };
}

export function driftLevel(value: number): DriftLevel {
  return value >= PSI_THRESHOLDS.drift ? 'drift' : value >= PSI_THRESHOLDS.warning ? 'warning' : 'ok';
}

/** PSI per reference feature of a current matrix whose columns are `names`. */
export function driftReport(refs: ReferenceHistogram[], X: Float64Array, rows: number, names: string[]): {
  feature: string; psi: number; level: DriftLevel;
}[] {
  const cols = checkMatrix(names, X, rows);
  return refs.map((ref) => {
    const j = names.indexOf(ref.feature);
    if (j < 0) throw new RangeError(`feature ${JSON.stringify(ref.feature)} of the reference is not among the current columns`);
    const value = psi(ref, column(X, rows, cols, j)).psi;
    return { feature: ref.feature, psi: value, level: driftLevel(value) };
  });
}

/** Features that follow the weekly cycle (meaningless in a sample spanning less than a week) and the daily one. */
const WEEKLY_FEATURES = ['day_of_week', 'is_weekend'];
const DAILY_FEATURES = ['hour_of_day'];

/**
 * Calendar features a drift sample spanning `span` ms of first opens cannot judge: one day of
 * users is all one weekday (a normal day measured PSI 7.7–8.3 on day_of_week), less than a day
 * misses part of the daily rhythm.
 */
export function calendarLeftOut(span: number): string[] {
  const day = 86_400_000;
  return [...(span < 7 * day ? WEEKLY_FEATURES : []), ...(span < day ? DAILY_FEATURES : [])];
}
