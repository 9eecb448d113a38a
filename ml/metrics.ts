/**
 * Binary classification metrics over (y: 0/1 labels, p: scores), matching scikit-learn's
 * definitions so numbers are comparable with the Python reference (see bench/sklearn_expected.py).
 */
import { checkScores, prCurve, rocCurve, sweep, type PrCurve, type RocCurve } from './curves';

export { prCurve, rocCurve, type PrCurve, type RocCurve } from './curves';

/** Area under the ROC curve, trapezoidal over distinct scores (ties as scikit-learn's roc_auc_score). */
export function rocAuc(y: Uint8Array, p: Float64Array): number {
  const s = sweep(y, p);
  if (s.positives === 0 || s.negatives === 0) {
    throw new RangeError(`rocAuc is undefined when only one class is present (positives=${s.positives}, negatives=${s.negatives})`);
  }
  let area = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let i = 0; i < s.tps.length; i++) {
    area += (s.fps[i] - prevFp) * (s.tps[i] + prevTp) * 0.5;
    prevTp = s.tps[i];
    prevFp = s.fps[i];
  }
  return area / (s.positives * s.negatives);
}

/** Average precision: sum over distinct thresholds of (R_n - R_{n-1}) * P_n (scikit-learn's step rule, no interpolation). */
export function averagePrecision(y: Uint8Array, p: Float64Array): number {
  const s = sweep(y, p);
  if (s.positives === 0) throw new RangeError('averagePrecision is undefined when y has no positive labels');
  let ap = 0;
  let prevRecall = 0;
  for (let i = 0; i < s.tps.length; i++) {
    const recall = s.tps[i] / s.positives;
    ap += (recall - prevRecall) * (s.tps[i] / (s.tps[i] + s.fps[i]));
    prevRecall = recall;
  }
  return ap;
}

/** Confusion counts. */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Confusion counts when predicting 1 for p >= threshold. */
export function confusionAt(y: Uint8Array, p: Float64Array, threshold: number): Confusion {
  checkScores(y, p);
  if (Number.isNaN(threshold)) throw new RangeError('threshold is NaN');
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < y.length; i++) {
    const pred = p[i] >= threshold;
    if (y[i] === 1) {
      if (pred) tp++;
      else fn++;
    } else if (pred) fp++;
    else tn++;
  }
  return { tp, fp, tn, fn };
}

/** Precision, recall and F1 from confusion counts; 0 where undefined (scikit-learn zero_division=0). */
export function precisionRecallF1(c: Confusion): { precision: number; recall: number; f1: number } {
  const precision = c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 0;
  const recall = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0;
  const f1 = 2 * c.tp + c.fp + c.fn > 0 ? (2 * c.tp) / (2 * c.tp + c.fp + c.fn) : 0;
  return { precision, recall, f1 };
}

/** Mean squared difference between the score and the label. */
export function brierScore(y: Uint8Array, p: Float64Array): number {
  checkScores(y, p);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (p[i] - y[i]) ** 2;
  return s / y.length;
}

/** Mean negative log-likelihood with scores clipped to [eps, 1 - eps]. @param eps @default 1e-15 */
export function logLoss(y: Uint8Array, p: Float64Array, eps = 1e-15): number {
  checkScores(y, p);
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(Math.max(p[i], eps), 1 - eps);
    s -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / y.length;
}

/**
 * Lift of the top `fraction` of rows by score (k = ceil(fraction * n); ties broken by row order).
 * capture = share of all positives found in the top k; precision = positives in top k / k.
 */
export function liftAtTopK(y: Uint8Array, p: Float64Array, fraction: number): { lift: number; capture: number; precision: number } {
  checkScores(y, p);
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`fraction must be in (0, 1], got ${fraction}`);
  const n = y.length;
  const k = Math.ceil(fraction * n);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => p[b] - p[a] || a - b);
  let positives = 0;
  let hits = 0;
  for (let i = 0; i < n; i++) positives += y[i];
  for (let i = 0; i < k; i++) hits += y[order[i]];
  const precision = hits / k;
  const baseRate = positives / n;
  return { lift: baseRate > 0 ? precision / baseRate : 0, capture: positives > 0 ? hits / positives : 0, precision };
}

/** Everything `evaluateBinary` reports; plain numbers and arrays only. */
export interface BinaryEvaluation extends Confusion {
  n: number;
  positives: number;
  baseRate: number;
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  averagePrecision: number;
  brier: number;
  logLoss: number;
  liftTop10: { lift: number; capture: number; precision: number };
  rocCurve: RocCurve;
  prCurve: PrCurve;
}

/** All holdout metrics at one decision threshold, JSON-serialisable. */
export function evaluateBinary(y: Uint8Array, p: Float64Array, threshold: number): BinaryEvaluation {
  const c = confusionAt(y, p, threshold);
  const positives = c.tp + c.fn;
  return {
    n: y.length,
    positives,
    baseRate: positives / y.length,
    threshold,
    ...c,
    ...precisionRecallF1(c),
    rocAuc: rocAuc(y, p),
    averagePrecision: averagePrecision(y, p),
    brier: brierScore(y, p),
    logLoss: logLoss(y, p),
    liftTop10: liftAtTopK(y, p, 0.1),
    rocCurve: rocCurve(y, p),
    prCurve: prCurve(y, p),
  };
}
