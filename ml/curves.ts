/**
 * Threshold sweeps shared by the ranking metrics and the ROC / precision-recall curves.
 * Scores are sorted once, descending; tied scores form one operating point, as in scikit-learn.
 */

/** Cumulative counts at each distinct score, highest score first. */
export interface Sweep {
  /** the distinct scores, descending */
  thresholds: Float64Array;
  /** true positives when predicting 1 for p >= thresholds[i] */
  tps: Float64Array;
  /** false positives when predicting 1 for p >= thresholds[i] */
  fps: Float64Array;
  positives: number;
  negatives: number;
}

/** Validate a (labels, scores) pair; RangeError names the offending value. */
export function checkScores(y: Uint8Array, p: Float64Array): void {
  if (y.length !== p.length) throw new RangeError(`y has length ${y.length} but scores have length ${p.length}`);
  if (y.length === 0) throw new RangeError('metrics need at least one row');
  for (let i = 0; i < y.length; i++) {
    if (y[i] > 1) throw new RangeError(`y[${i}] is ${y[i]}; labels must be 0 or 1`);
    if (Number.isNaN(p[i])) throw new RangeError(`score ${i} is NaN`);
  }
}

/** Sort scores descending and accumulate tp/fp at each distinct score. */
export function sweep(y: Uint8Array, p: Float64Array): Sweep {
  checkScores(y, p);
  const n = y.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => p[b] - p[a] || a - b);
  const thr: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    if (y[i] === 1) tp++;
    else fp++;
    // close an operating point only after the last of a run of tied scores
    if (k === n - 1 || p[order[k + 1]] !== p[i]) {
      thr.push(p[i]);
      tps.push(tp);
      fps.push(fp);
    }
  }
  return { thresholds: Float64Array.from(thr), tps: Float64Array.from(tps), fps: Float64Array.from(fps), positives: tp, negatives: fp };
}

/** Keep at most `maxPoints` evenly spaced indices of [0, n), always the first and the last. */
function pickIndices(n: number, maxPoints: number): number[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new RangeError(`maxPoints must be an integer >= 2, got ${maxPoints}`);
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < maxPoints; k++) out.push(Math.round((k * (n - 1)) / (maxPoints - 1)));
  return out;
}

/** ROC curve points (plain arrays, JSON-safe). */
export interface RocCurve {
  fpr: number[];
  tpr: number[];
  thresholds: number[];
}

/**
 * ROC curve from (0,0) to (1,1), downsampled to at most `maxPoints` points. The first threshold is
 * max(p) + 1 (scikit-learn < 1.3 convention) rather than Infinity so the result stays JSON-safe.
 * @param maxPoints @default 200
 */
export function rocCurve(y: Uint8Array, p: Float64Array, maxPoints = 200): RocCurve {
  const s = sweep(y, p);
  const fpr = [0];
  const tpr = [0];
  const thresholds = [s.thresholds[0] + 1];
  for (let i = 0; i < s.thresholds.length; i++) {
    fpr.push(s.negatives > 0 ? s.fps[i] / s.negatives : 0);
    tpr.push(s.positives > 0 ? s.tps[i] / s.positives : 0);
    thresholds.push(s.thresholds[i]);
  }
  const keep = pickIndices(fpr.length, maxPoints);
  return { fpr: keep.map((i) => fpr[i]), tpr: keep.map((i) => tpr[i]), thresholds: keep.map((i) => thresholds[i]) };
}

/** Precision-recall curve points (plain arrays, JSON-safe). */
export interface PrCurve {
  precision: number[];
  recall: number[];
  thresholds: number[];
}

/**
 * Precision-recall points in decreasing threshold order (recall rising), one per distinct score:
 * precision and recall when predicting 1 for p >= threshold. Downsampled to at most `maxPoints`.
 * @param maxPoints @default 200
 */
export function prCurve(y: Uint8Array, p: Float64Array, maxPoints = 200): PrCurve {
  const s = sweep(y, p);
  const m = s.thresholds.length;
  const keep = pickIndices(m, maxPoints);
  return {
    precision: keep.map((i) => s.tps[i] / (s.tps[i] + s.fps[i])),
    recall: keep.map((i) => (s.positives > 0 ? s.tps[i] / s.positives : 0)),
    thresholds: keep.map((i) => s.thresholds[i]),
  };
}
