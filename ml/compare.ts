/**
 * Comparing two models scored on the same holdout rows: precision at a recall target, ROC AUC, a
 * paired bootstrap of their difference, and a single-feature AUC screen for label leakage.
 *
 * The bootstrap sorts each model's scores once; a resample is a vector of integer row weights
 * (multiplicities), so every resample costs O(n) per model and no re-sorting.
 */
import { checkScores, sweep } from './curves';
import { mulberry32 } from './rng';
import { assertRowIndex, gatherColumn, type RowIndex } from './matrix';

/** Float slack on the recall target, as chooseThreshold in ml/threshold.ts. */
const RECALL_SLACK = 1e-12;

function checkTargetRecall(targetRecall: number): void {
  if (!(targetRecall > 0 && targetRecall <= 1)) throw new RangeError(`targetRecall must be in (0, 1], got ${targetRecall}`);
}

/** Precision at a recall target and the operating point that gives it. */
export interface PrecisionAtRecall {
  precision: number;
  recall: number;
  /** predict 1 when p >= threshold */
  threshold: number;
}

/**
 * Among thresholds at the distinct scores (predict 1 when p >= t), the highest precision whose recall
 * reaches targetRecall (ties: the highest threshold). Same operating point as chooseThreshold in
 * ml/threshold.ts; always reachable since the lowest score flags every row (recall 1).
 */
export function precisionAtRecall(y: Uint8Array, p: Float64Array, targetRecall: number): PrecisionAtRecall {
  checkTargetRecall(targetRecall);
  const s = sweep(y, p);
  if (s.positives === 0) throw new RangeError('precisionAtRecall needs at least one positive label');
  let best = -1;
  let bestPrecision = -1;
  for (let i = 0; i < s.thresholds.length; i++) {
    if (s.tps[i] / s.positives + RECALL_SLACK < targetRecall) continue;
    const precision = s.tps[i] / (s.tps[i] + s.fps[i]);
    if (precision > bestPrecision) {
      bestPrecision = precision;
      best = i;
    }
  }
  return { precision: bestPrecision, recall: s.tps[best] / s.positives, threshold: s.thresholds[best] };
}

/** One model's scores sorted once, descending (ties by row index, as `sweep`), tie runs marked. */
export interface RankedScores {
  /** row indices by descending score */
  order: Uint32Array;
  /** labels in that order */
  labels: Uint8Array;
  /** scores in that order */
  scores: Float64Array;
  /** 1 where sorted position k is the last of a run of tied scores (an operating point closes) */
  groupEnd: Uint8Array;
}

/** Sort a model's scores once for repeated weighted evaluation with {@link weightedRankMetrics}. */
export function rankScores(y: Uint8Array, p: Float64Array): RankedScores {
  checkScores(y, p);
  const n = y.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => p[b] - p[a] || a - b);
  const labels = new Uint8Array(n);
  const scores = new Float64Array(n);
  const groupEnd = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    labels[k] = y[order[k]];
    scores[k] = p[order[k]];
  }
  for (let k = 0; k < n; k++) groupEnd[k] = k === n - 1 || scores[k + 1] !== scores[k] ? 1 : 0;
  return { order, labels, scores, groupEnd };
}

interface PassResult {
  /** un-normalised ROC area: sum over operating points of trapezoids in (fp, tp) counts */
  area: number;
  precision: number;
  recall: number;
  threshold: number;
}

/**
 * One O(n) pass over ranked rows with weights (null = all 1): ROC trapezoids and the best precision
 * at the recall target. `positives` is the weighted positive count, > 0.
 */
function rankPass(r: RankedScores, w: Uint32Array | null, targetRecall: number, positives: number): PassResult {
  const { order, labels, scores, groupEnd } = r;
  const n = labels.length;
  let tp = 0;
  let fp = 0;
  let prevTp = 0;
  let prevFp = 0;
  let area = 0;
  let bestPrecision = -1;
  let bestTp = 0;
  let bestThreshold = Number.NaN;
  for (let k = 0; k < n; k++) {
    const wk = w === null ? 1 : w[order[k]];
    if (labels[k] === 1) tp += wk;
    else fp += wk;
    if (groupEnd[k] === 0) continue;
    // a run with weight 0 repeats the previous (tp, fp): a zero-width trapezoid and an equal precision,
    // which the strict > below skips, so the result matches `sweep` on the resample with rows repeated
    area += (fp - prevFp) * (tp + prevTp) * 0.5;
    prevTp = tp;
    prevFp = fp;
    if (tp + fp === 0 || tp / positives + RECALL_SLACK < targetRecall) continue;
    const precision = tp / (tp + fp);
    if (precision > bestPrecision) {
      bestPrecision = precision;
      bestTp = tp;
      bestThreshold = scores[k];
    }
  }
  return { area, precision: bestPrecision, recall: bestTp / positives, threshold: bestThreshold };
}

/** Metrics of a weighted sample, see {@link weightedRankMetrics}. */
export interface WeightedRankMetrics {
  precisionAtRecall: number;
  /** recall at the chosen operating point (>= the target, up to 1e-12) */
  recall: number;
  /** predict 1 when p >= threshold */
  threshold: number;
  rocAuc: number;
  /** weighted counts */
  positives: number;
  negatives: number;
}

/**
 * Precision at a recall target and ROC AUC (ties count 1/2, Mann–Whitney) of the sample in which row
 * i appears weights[i] times, in O(n) from rows ranked once by {@link rankScores}. With all weights 1
 * this is precisionAtRecall and rocAuc of ml/metrics.ts; weight 2 equals duplicating the row.
 */
export function weightedRankMetrics(ranked: RankedScores, weights: Uint32Array, targetRecall: number): WeightedRankMetrics {
  checkTargetRecall(targetRecall);
  const n = ranked.labels.length;
  if (weights.length !== n) throw new RangeError(`weights has length ${weights.length} but ${n} rows are ranked`);
  let positives = 0;
  let total = 0;
  for (let k = 0; k < n; k++) {
    const wk = weights[ranked.order[k]];
    total += wk;
    if (ranked.labels[k] === 1) positives += wk;
  }
  const negatives = total - positives;
  if (positives === 0 || negatives === 0) {
    throw new RangeError(`weightedRankMetrics needs both classes with weight (positives=${positives}, negatives=${negatives})`);
  }
  const r = rankPass(ranked, weights, targetRecall, positives);
  return {
    precisionAtRecall: r.precision,
    recall: r.recall,
    threshold: r.threshold,
    rocAuc: r.area / (positives * negatives),
    positives,
    negatives,
  };
}

/** Options of {@link pairedBootstrap}. */
export interface PairedBootstrapOptions {
  /** recall target for precisionAtRecall, in (0, 1] */
  targetRecall: number;
  /** number of resamples @default 1000 */
  resamples?: number;
  /** mulberry32 seed; equal seeds give equal results @default 42 */
  seed?: number;
  /** central coverage of the percentile interval, in (0, 1) @default 0.95 */
  confidence?: number;
}

/** The two compared metrics of one model, or their difference. */
export interface ComparedMetrics {
  precisionAtRecall: number;
  rocAuc: number;
}

/** Result of {@link pairedBootstrap}; plain numbers, JSON-serialisable. */
export interface PairedBootstrapResult {
  n: number;
  positives: number;
  candidate: ComparedMetrics;
  production: ComparedMetrics;
  /** candidate − production on the full sample */
  diff: ComparedMetrics;
  /** percentile interval [lo, hi] of the paired resampled differences (candidate − production) */
  interval: { precisionAtRecall: [number, number]; rocAuc: [number, number] };
  targetRecall: number;
  resamples: number;
  seed: number;
  confidence: number;
}

/** Quantile q of sorted values, linear interpolation between order statistics (numpy's default). */
function quantileSorted(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function percentileInterval(values: Float64Array, confidence: number): [number, number] {
  const sorted = Float64Array.from(values).sort();
  const alpha = 1 - confidence;
  return [quantileSorted(sorted, alpha / 2), quantileSorted(sorted, 1 - alpha / 2)];
}

/**
 * Paired bootstrap of candidate − production in precision at a recall target and ROC AUC. Each
 * resample draws n rows with replacement (seeded mulberry32) and scores both models on the same
 * rows; a draw lacking a class is redrawn. The interval is the percentile interval of the
 * resampled differences.
 */
export function pairedBootstrap(
  y: Uint8Array,
  pCandidate: Float64Array,
  pProduction: Float64Array,
  opts: PairedBootstrapOptions,
): PairedBootstrapResult {
  const { targetRecall, resamples = 1000, seed = 42, confidence = 0.95 } = opts;
  checkTargetRecall(targetRecall);
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be an integer >= 1, got ${resamples}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const cand = rankScores(y, pCandidate);
  const prod = rankScores(y, pProduction);
  const n = y.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i];
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    throw new RangeError(`pairedBootstrap needs both classes (positives=${positives}, negatives=${negatives})`);
  }

  const full = (r: RankedScores): ComparedMetrics => {
    const s = rankPass(r, null, targetRecall, positives);
    return { precisionAtRecall: s.precision, rocAuc: s.area / (positives * negatives) };
  };
  const candidate = full(cand);
  const production = full(prod);

  const rng = mulberry32(seed);
  const w = new Uint32Array(n);
  const dPrecision = new Float64Array(resamples);
  const dAuc = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    // P(draw lacks a class) = (1 - π)^n + π^n <= 1/2 for 1 <= positives <= n - 1, so this ends quickly
    let pos = 0;
    do {
      w.fill(0);
      pos = 0;
      for (let i = 0; i < n; i++) {
        const j = rng.int(n);
        w[j]++;
        pos += y[j];
      }
    } while (pos === 0 || pos === n);
    const pairs = pos * (n - pos);
    const c = rankPass(cand, w, targetRecall, pos);
    const p = rankPass(prod, w, targetRecall, pos);
    dPrecision[b] = c.precision - p.precision;
    dAuc[b] = c.area / pairs - p.area / pairs;
  }

  return {
    n,
    positives,
    candidate,
    production,
    diff: {
      precisionAtRecall: candidate.precisionAtRecall - production.precisionAtRecall,
      rocAuc: candidate.rocAuc - production.rocAuc,
    },
    interval: { precisionAtRecall: percentileInterval(dPrecision, confidence), rocAuc: percentileInterval(dAuc, confidence) },
    targetRecall,
    resamples,
    seed,
    confidence,
  };
}

/**
 * For each column of row-major X (rows × cols), max(AUC, 1 − AUC) of that column alone as a score
 * (ROC AUC with ties 1/2, as rocAuc): the leakage guard, 1 for a feature that alone separates the
 * labels, 0.5 for one carrying no ranking information. Symmetric: negating a column leaves it unchanged.
 * With `at`, over the rows `at` of X (y: one label per entry), read in place.
 */
export function singleFeatureAuc(X: Float64Array, rows: number, cols: number, y: Uint8Array, at?: RowIndex): Float64Array {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`rows must be an integer >= 1, got ${rows}`);
  if (!Number.isInteger(cols) || cols < 0) throw new RangeError(`cols must be an integer >= 0, got ${cols}`);
  if (X.length !== rows * cols) throw new RangeError(`X has length ${X.length} but rows * cols = ${rows * cols}`);
  const n = at ? at.length : rows;
  if (y.length !== n) throw new RangeError(`y has length ${y.length} but X has ${n} rows`);
  if (at) assertRowIndex({ data: X, rows, cols }, at);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i];
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    throw new RangeError(`singleFeatureAuc needs both classes (positives=${positives}, negatives=${negatives})`);
  }
  const pairs = positives * negatives;
  const out = new Float64Array(cols);
  const col = new Float64Array(n);
  for (let c = 0; c < cols; c++) {
    gatherColumn({ data: X, rows, cols }, c, col, at);
    for (let i = 0; i < n; i++) if (Number.isNaN(col[i])) throw new RangeError(`X[${at ? at[i] : i}, ${c}] is NaN`);
    // the area is a sum of half-integers, exact in float64, so max(area, pairs - area) is exactly symmetric
    const area = rankPass(rankScores(y, col), null, 1, positives).area;
    out[c] = Math.max(area, pairs - area) / pairs;
  }
  return out;
}
