/**
 * Probability calibration of classifier scores: isotonic regression and Platt scaling, plus the
 * calibration diagnostics (expected calibration error, reliability curve) used to judge them.
 * A fitted `Calibrator` is plain JSON so it can live in a model envelope header.
 */
import { checkScores } from './curves';

/** A fitted score -> probability map; plain JSON (numbers and arrays only). */
export type Calibrator =
  | { kind: 'identity' }
  | { kind: 'isotonic'; x: number[]; y: number[]; n: number }
  | { kind: 'platt'; a: number; b: number; n: number };

/** Validate a calibration training set; RangeError names the offending value. */
function checkFit(scores: Float64Array, y: Uint8Array): void {
  const n = y.length;
  if (scores.length !== n) throw new RangeError(`scores have length ${scores.length} but y has length ${n}`);
  if (n < 2) throw new RangeError(`calibration needs at least 2 rows, got ${n}`);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] > 1) throw new RangeError(`y[${i}] is ${y[i]}; labels must be 0 or 1`);
    if (!Number.isFinite(scores[i])) throw new RangeError(`scores[${i}] is ${scores[i]}; scores must be finite`);
    positives += y[i];
  }
  if (positives === 0 || positives === n) {
    throw new RangeError(`calibration needs both classes, got ${positives} positives of ${n} rows`);
  }
}

/** Row indices sorted by ascending value, ties by row index (deterministic). */
function ascendingOrder(v: Float64Array): Uint32Array {
  const order = new Uint32Array(v.length);
  for (let i = 0; i < v.length; i++) order[i] = i;
  order.sort((a, b) => v[a] - v[b] || a - b);
  return order;
}

/**
 * Isotonic (non-decreasing) calibration by pool-adjacent-violators. Rows with equal scores are
 * pooled into one weighted point first, as scikit-learn's IsotonicRegression does, so the fit does
 * not depend on row order. Adjacent blocks are merged while the earlier block's positive rate is
 * >= the later one's, which also merges blocks whose rates are equal: the knot rates are strictly
 * increasing.
 *
 * Knots: one per block, at the block's MEAN score (x) with the block's positive rate (y).
 * scikit-learn instead keeps each block's first and last score, which makes the interpolated map a
 * step function (flat across every block), tying all rows of a block and so changing the ranking.
 * Interpolating between block centres keeps the map strictly increasing between the first and last
 * knot, so calibration only ties rows below the first or above the last centre and ROC AUC is
 * almost unchanged. The price is that the map is not exactly the PAV fit at the training rows.
 */
export function fitIsotonic(scores: Float64Array, y: Uint8Array): Calibrator {
  checkFit(scores, y);
  const n = y.length;
  const order = ascendingOrder(scores);
  // block stack: positives, rows and score sum; counts are integers, so the rate comparison by
  // cross-multiplication below is exact (below 2^53 for any realistic n)
  const pos = new Float64Array(n);
  const cnt = new Float64Array(n);
  const sumX = new Float64Array(n);
  let top = -1;
  let k = 0;
  while (k < n) {
    const s = scores[order[k]];
    let p = 0;
    let c = 0;
    while (k < n && scores[order[k]] === s) {
      p += y[order[k]];
      c++;
      k++;
    }
    top++;
    pos[top] = p;
    cnt[top] = c;
    sumX[top] = s * c;
    while (top > 0 && pos[top - 1] * cnt[top] >= pos[top] * cnt[top - 1]) {
      pos[top - 1] += pos[top];
      cnt[top - 1] += cnt[top];
      sumX[top - 1] += sumX[top];
      top--;
    }
  }
  const x: number[] = [];
  const ys: number[] = [];
  for (let b = 0; b <= top; b++) {
    x.push(sumX[b] / cnt[b]);
    ys.push(pos[b] / cnt[b]);
  }
  return { kind: 'isotonic', x, y: ys, n };
}

/** log(1 + exp(-z)) without overflow. */
function log1pExpNeg(z: number): number {
  return z >= 0 ? Math.log1p(Math.exp(-z)) : -z + Math.log1p(Math.exp(z));
}

/** 1 / (1 + exp(z)) without overflow. */
function sigmoidNeg(z: number): number {
  if (z >= 0) {
    const e = Math.exp(-z);
    return e / (1 + e);
  }
  return 1 / (1 + Math.exp(z));
}

/**
 * Platt scaling: p = 1 / (1 + exp(a*s + b)) on the raw score s (Platt 1999, "Probabilistic outputs
 * for support vector machines"), fitted by Newton's method with a backtracking line search on the
 * cross-entropy against Platt's smoothed targets t+ = (N+ + 1)/(N+ + 2), t- = 1/(N- + 2). This is
 * the numerically stable algorithm of Lin, Lin & Weng (2007), "A note on Platt's probabilistic
 * outputs for support vector machines", Machine Learning 68:267-276 (their Algorithm 1, as in
 * LIBSVM's sigmoid_train). The smoothing keeps a and b finite even on separable data.
 */
export function fitPlatt(scores: Float64Array, y: Uint8Array): Calibrator {
  checkFit(scores, y);
  const n = y.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i];
  const nNeg = n - nPos;
  const hi = (nPos + 1) / (nPos + 2);
  const lo = 1 / (nNeg + 2);
  const maxIter = 100;
  const minStep = 1e-10;
  const sigma = 1e-12; // Hessian ridge: keeps it positive definite when all scores are equal
  const objective = (a: number, b: number): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const z = scores[i] * a + b;
      const t = y[i] === 1 ? hi : lo;
      // -[t log p + (1-t) log(1-p)] with p = 1/(1+e^z) equals t*z + log(1+e^-z)
      f += t * z + log1pExpNeg(z);
    }
    return f;
  };
  let a = 0;
  let b = Math.log((nNeg + 1) / (nPos + 1));
  let f = objective(a, b);
  for (let iter = 0; iter < maxIter; iter++) {
    let h11 = sigma;
    let h22 = sigma;
    let h21 = 0;
    let g1 = 0;
    let g2 = 0;
    for (let i = 0; i < n; i++) {
      const s = scores[i];
      const p = sigmoidNeg(s * a + b);
      const d2 = p * (1 - p);
      h11 += s * s * d2;
      h22 += d2;
      h21 += s * d2;
      const d1 = (y[i] === 1 ? hi : lo) - p;
      g1 += s * d1;
      g2 += d1;
    }
    if (Math.abs(g1) < 1e-5 && Math.abs(g2) < 1e-5) break;
    const det = h11 * h22 - h21 * h21;
    const dA = -(h22 * g1 - h21 * g2) / det;
    const dB = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * dA + g2 * dB;
    let step = 1;
    while (step >= minStep) {
      const na = a + step * dA;
      const nb = b + step * dB;
      const nf = objective(na, nb);
      if (nf < f + 1e-4 * step * gd) {
        a = na;
        b = nb;
        f = nf;
        break;
      }
      step /= 2;
    }
    if (step < minStep) break; // no descent along the Newton direction: at the optimum to rounding
  }
  return { kind: 'platt', a, b, n };
}

/**
 * Isotonic when there are at least `minIsotonicRows` rows, else Platt. The default follows the
 * scikit-learn user guide (Probability calibration), which warns that isotonic calibration tends to
 * overfit with far fewer than 1000 calibration samples, where the 2-parameter sigmoid is safer.
 * @param opts.minIsotonicRows @default 1000
 */
export function fitCalibrator(scores: Float64Array, y: Uint8Array, opts: { minIsotonicRows?: number } = {}): Calibrator {
  const minRows = opts.minIsotonicRows ?? 1000;
  if (!Number.isInteger(minRows) || minRows < 0) throw new RangeError(`minIsotonicRows must be a non-negative integer, got ${minRows}`);
  checkFit(scores, y);
  return y.length >= minRows ? fitIsotonic(scores, y) : fitPlatt(scores, y);
}

/**
 * Calibrated probability of one raw score, in [0, 1]. Isotonic: binary search over the knots and
 * linear interpolation, clamped to the first / last knot's rate outside the knot range. No allocation.
 */
export function applyCalibrator(c: Calibrator, p: number): number {
  if (Number.isNaN(p)) throw new RangeError('score is NaN');
  if (c.kind === 'identity') return p < 0 ? 0 : p > 1 ? 1 : p;
  if (c.kind === 'platt') return sigmoidNeg(c.a === 0 ? c.b : c.a * p + c.b);
  const x = c.x;
  const ys = c.y;
  const last = x.length - 1;
  if (!(p > x[0])) return ys[0];
  if (p >= x[last]) return ys[last];
  let lo = 0; // invariant: x[lo] <= p < x[hi]
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] <= p) lo = mid;
    else hi = mid;
  }
  return ys[lo] + ((ys[hi] - ys[lo]) * (p - x[lo])) / (x[hi] - x[lo]);
}

/** `applyCalibrator` over a batch of raw scores. */
export function applyCalibratorBatch(c: Calibrator, p: Float64Array): Float64Array {
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = applyCalibrator(c, p[i]);
  return out;
}

/** Mean of the probabilities (compare with the base rate to check calibration-in-the-large). */
export function meanProbability(p: Float64Array): number {
  if (p.length === 0) throw new RangeError('meanProbability needs at least one value');
  let s = 0;
  for (let i = 0; i < p.length; i++) s += p[i];
  return s / p.length;
}

/** Per-bin calibration summary (plain arrays, JSON-safe); empty bins are left out. */
export interface ReliabilityCurve {
  meanPredicted: number[];
  observedRate: number[];
  count: number[];
}

/**
 * Reliability curve over equal-mass bins: rows sorted by p (ties by row index), bin i takes sorted
 * rows floor(i*n/bins) .. floor((i+1)*n/bins) - 1, so tied probabilities may straddle two bins.
 * @param bins @default 10
 */
export function reliabilityCurve(y: Uint8Array, p: Float64Array, bins = 10): ReliabilityCurve {
  checkScores(y, p);
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  for (let i = 0; i < p.length; i++) {
    if (p[i] < 0 || p[i] > 1) throw new RangeError(`p[${i}] is ${p[i]}; probabilities must be in [0, 1]`);
  }
  const n = y.length;
  const order = ascendingOrder(p);
  const out: ReliabilityCurve = { meanPredicted: [], observedRate: [], count: [] };
  for (let b = 0; b < bins; b++) {
    const start = Math.floor((b * n) / bins);
    const end = Math.floor(((b + 1) * n) / bins);
    if (end === start) continue;
    let sp = 0;
    let sy = 0;
    for (let k = start; k < end; k++) {
      sp += p[order[k]];
      sy += y[order[k]];
    }
    out.meanPredicted.push(sp / (end - start));
    out.observedRate.push(sy / (end - start));
    out.count.push(end - start);
  }
  return out;
}

/**
 * Expected calibration error over the equal-mass bins of `reliabilityCurve`:
 * ECE = sum over bins of (n_b / n) * |mean p_b - mean y_b|.
 * @param bins @default 10
 */
export function expectedCalibrationError(y: Uint8Array, p: Float64Array, bins = 10): number {
  const r = reliabilityCurve(y, p, bins);
  let e = 0;
  for (let b = 0; b < r.count.length; b++) e += r.count[b] * Math.abs(r.meanPredicted[b] - r.observedRate[b]);
  return e / y.length;
}
