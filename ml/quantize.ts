/**
 * Feature quantisation: each column becomes uint8 bin codes, once per fit, so split search is a
 * histogram scan instead of a sort. Bin b of feature f holds x with edges[b-1] < x <= edges[b], so
 * "code <= b" on training data is exactly "x <= edges[b]" on raw values: trees store raw thresholds
 * and score raw rows without re-binning.
 */
import { gatherColumn, type Matrix, type RowIndex } from './matrix';
import { mixSeed, mulberry32 } from './rng';

/**
 * Binned training data, row-major with rows padded to a multiple of 4 bytes: a tree build copies and
 * swaps whole rows as 32-bit words, and one row's sampled features share a cache line.
 */
export interface Quantized {
  /** codes[r * stride + f] = bin of X[r][f]; bytes past `cols` in a row are 0 */
  codes: Uint8Array;
  rows: number;
  cols: number;
  /** bytes per row: cols rounded up to a multiple of 4 */
  stride: number;
  /** bins of feature f = edgeOffsets[f + 1] - edgeOffsets[f] + 1 */
  edges: Float64Array;
  edgeOffsets: Int32Array;
}

/** Bytes per quantised row: `cols` rounded up to a multiple of 4. */
export const rowStride = (cols: number): number => (cols + 3) & ~3;

/** Rows used to place edges; beyond this a seeded sample is as good as all rows and much cheaper to sort. */
const EDGE_SAMPLE_ROWS = 200_000;

/** A threshold in [a, b): splits a (left) from b (right) even when a and b are adjacent floats. */
function between(a: number, b: number): number {
  const m = a + (b - a) / 2;
  return m >= b ? a : m;
}

/**
 * Edges for one sorted column: midpoints between distinct values when there are at most maxBins of
 * them, otherwise greedy equal-frequency bins over distinct values (a heavy value gets its own bin).
 */
export function columnEdges(sorted: Float64Array, maxBins: number): number[] {
  const m = sorted.length;
  const values: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < m; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      values.push(sorted[i]);
      counts.push(1);
    } else counts[counts.length - 1]++;
  }
  const edges: number[] = [];
  if (values.length <= maxBins) {
    for (let j = 0; j + 1 < values.length; j++) edges.push(between(values[j], values[j + 1]));
    return edges;
  }
  let cum = 0;
  for (let j = 0; j + 1 < values.length && edges.length < maxBins - 1; j++) {
    cum += counts[j];
    if (cum >= ((edges.length + 1) * m) / maxBins) edges.push(between(values[j], values[j + 1]));
  }
  return edges;
}

/** Index of the bin of x: the number of edges strictly below x (edges of one feature, ascending). */
export function binOf(edges: Float64Array, lo: number, hi: number, x: number): number {
  const base = lo;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo - base;
}

/**
 * Quantise every column of X into at most `maxBins` bins. With `shared`, codes live on a
 * SharedArrayBuffer so worker threads read them without copying. With `at`, the rows `at` of X
 * (in that order) are quantised, exactly as the copy `selectRows(X, at)` would be.
 */
export function quantize(X: Matrix, maxBins: number, seed: number, shared = false, at?: RowIndex): Quantized {
  const { cols } = X;
  const rows = at ? at.length : X.rows;
  const sampleRows = Math.min(rows, EDGE_SAMPLE_ROWS);
  let sample: Int32Array | null = null;
  if (sampleRows < rows) {
    const rng = mulberry32(mixSeed(seed, 0x5eed));
    sample = new Int32Array(sampleRows);
    for (let i = 0; i < sampleRows; i++) sample[i] = rng.int(rows);
  }
  const allEdges: number[] = [];
  const edgeOffsets = new Int32Array(cols + 1);
  const stride = rowStride(cols);
  const codes = shared ? new Uint8Array(new SharedArrayBuffer(rows * stride)) : new Uint8Array(rows * stride);
  // one strided pass per feature gathers the column; sorting and binning then read it sequentially
  const column = new Float64Array(rows);
  const sorted = new Float64Array(sampleRows);
  for (let f = 0; f < cols; f++) {
    gatherColumn(X, f, column, at);
    if (sample) for (let i = 0; i < sampleRows; i++) sorted[i] = column[sample[i]];
    else sorted.set(column);
    sorted.sort();
    const lo = allEdges.length;
    for (const v of columnEdges(sorted, maxBins)) allEdges.push(v);
    edgeOffsets[f + 1] = allEdges.length;
    const e = Float64Array.from(allEdges.slice(lo));
    for (let r = 0, k = f; r < rows; r++, k += stride) codes[k] = binOf(e, 0, e.length, column[r]);
  }
  return { codes, rows, cols, stride, edges: Float64Array.from(allEdges), edgeOffsets };
}
