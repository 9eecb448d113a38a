import { describe, expect, it } from 'vitest';
import {
  applyCalibrator, applyCalibratorBatch, expectedCalibrationError, fitCalibrator, fitIsotonic, fitPlatt,
  meanProbability, reliabilityCurve, type Calibrator,
} from '../../../ml/calibration';
import { rocAuc } from '../../../ml/metrics';
import { mulberry32 } from '../../../ml/rng';

/** n rows with p_true ~ U(0,1), y ~ Bernoulli(p_true) and score = toScore(p_true). */
function draw(seed: number, n: number, toScore: (q: number) => number): { pTrue: Float64Array; y: Uint8Array; score: Float64Array } {
  const rng = mulberry32(seed);
  const pTrue = new Float64Array(n);
  const y = new Uint8Array(n);
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    pTrue[i] = rng.next();
    y[i] = rng.next() < pTrue[i] ? 1 : 0;
    score[i] = toScore(pTrue[i]);
  }
  return { pTrue, y, score };
}

function isotonic(c: Calibrator): Extract<Calibrator, { kind: 'isotonic' }> {
  if (c.kind !== 'isotonic') throw new Error(`expected an isotonic calibrator, got ${c.kind}`);
  return c;
}

function platt(c: Calibrator): Extract<Calibrator, { kind: 'platt' }> {
  if (c.kind !== 'platt') throw new Error(`expected a Platt calibrator, got ${c.kind}`);
  return c;
}

const N = 20_000;
const BINS = 10;
// Standard error of one equal-mass bin's observed rate: sqrt(p(1-p)/(N/BINS)) <= sqrt(0.25/2000).
const BIN_SE = Math.sqrt(0.25 / (N / BINS));

describe('isotonic calibration', () => {
  // scores 0.1 0.2 0.3 0.3 0.4 0.5 0.6, labels 0 1 0 1 0 1 1. By hand:
  //   pool ties: 0.3 -> 1/2. Points (score, rate, rows): (.1,0,1) (.2,1,1) (.3,.5,2) (.4,0,1) (.5,1,1) (.6,1,1)
  //   (.2,1) then (.3,.5) violates -> merge: 2/3 over 3 rows; then (.4,0) violates -> 2/4 = .5 over 4 rows,
  //   mean score (.2+.3+.3+.4)/4 = .3; (.5,1) fine; (.6,1) equal to it -> merge: 2/2 at mean score .55.
  //   Blocks: {0.1: 0/1}, {0.2..0.4: 2/4}, {0.5..0.6: 2/2} -> knots x = [.1, .3, .55], y = [0, .5, 1].
  const HAND_S = Float64Array.from([0.1, 0.2, 0.3, 0.3, 0.4, 0.5, 0.6]);
  const HAND_Y = Uint8Array.from([0, 1, 0, 1, 0, 1, 1]);

  it('when fitted on the hand-worked example, then knots sit at block mean scores with block rates', () => {
    const c = isotonic(fitIsotonic(HAND_S, HAND_Y));
    expect(c.n).toBe(7);
    expect(c.y).toEqual([0, 0.5, 1]);
    // 1e-12: the block means are sums of decimal fractions, exact up to float rounding only
    c.x.forEach((v, i) => expect(v).toBeCloseTo([0.1, 0.3, 0.55][i], 12));
  });

  it('when a score falls between knots or outside them, then it interpolates or clamps', () => {
    const c = fitIsotonic(HAND_S, HAND_Y);
    expect(applyCalibrator(c, 0.2)).toBeCloseTo(0.25, 12); // halfway from (.1, 0) to (.3, .5)
    expect(applyCalibrator(c, 0.425)).toBeCloseTo(0.75, 12); // halfway from (.3, .5) to (.55, 1)
    expect(applyCalibrator(c, -5)).toBe(0);
    expect(applyCalibrator(c, 0.1)).toBe(0);
    expect(applyCalibrator(c, 0.55)).toBe(1);
    expect(applyCalibrator(c, 7)).toBe(1);
  });

  it('when tied rows are listed in a different order, then the fit is identical (ties pooled first)', () => {
    const s = Float64Array.from([0.1, 0.2, 0.3, 0.3, 0.4, 0.5, 0.6]);
    const y = Uint8Array.from([0, 1, 1, 0, 0, 1, 1]); // the two 0.3 rows swapped
    expect(fitIsotonic(s, y)).toEqual(fitIsotonic(HAND_S, HAND_Y));
  });

  it('when labels are already increasing in score, then every distinct rate is its own knot', () => {
    const c = isotonic(fitIsotonic(Float64Array.from([1, 2, 3, 4]), Uint8Array.from([0, 0, 1, 1])));
    // equal-rate neighbours merge: {1,2} at 1.5 with rate 0, {3,4} at 3.5 with rate 1
    expect(c.x).toEqual([1.5, 3.5]);
    expect(c.y).toEqual([0, 1]);
  });

  const CASES: [string, (q: number) => number][] = [
    ['p_true^3', (q) => q ** 3],
    ['0.5 + 0.4 p_true', (q) => 0.5 + 0.4 * q],
  ];

  for (const [name, toScore] of CASES) {
    it(`when scores are ${name} (monotone, miscalibrated), then isotonic on 20k rows calibrates fresh rows and keeps AUC`, () => {
      const train = draw(11, N, toScore);
      const test = draw(12, N, toScore);
      const c = fitIsotonic(train.score, train.y);
      const cal = applyCalibratorBatch(c, test.score);

      // the raw scores are far off: expected ECE is 0.25 for q^3 and 0.216 for 0.5+0.4q (integrals of
      // |score - q| over the bins), so the check below is not passed by an uncalibrated map
      expect(expectedCalibrationError(test.y, test.score, BINS)).toBeGreaterThan(0.15);
      // per bin, the gap is test-label noise (SE <= BIN_SE) plus the fitted map's error averaged over
      // the ~2000 training rows of that score range (SE about BIN_SE too): combined SE <= sqrt(2)*BIN_SE;
      // every bin within 3 combined SE bounds the weighted average ECE by the same amount (0.047)
      expect(expectedCalibrationError(test.y, cal, BINS)).toBeLessThan(3 * Math.SQRT2 * BIN_SE);

      // calibration-in-the-large: mean calibrated p and the test base rate each carry one sample's
      // error, SE sqrt(0.25/N) = 0.0035 each, so their difference has SE sqrt(2 * 0.25 / N)
      let positives = 0;
      for (let i = 0; i < N; i++) positives += test.y[i];
      expect(Math.abs(meanProbability(cal) - positives / N)).toBeLessThan(3 * Math.sqrt((2 * 0.25) / N));

      // the map is strictly increasing between the first and last knot, so only rows beyond the end
      // knots tie. The AUC change is at most (1/2)(P_end N_end)/(P N) summed over both ends; 0.002
      // allows each end to hold ~6% of rows, far more than the half PAV block beyond each end knot
      expect(Math.abs(rocAuc(test.y, cal) - rocAuc(test.y, test.score))).toBeLessThan(0.002);
    });
  }

  it('when the fitted map is evaluated on a grid, then it is non-decreasing, in [0,1], and strictly increasing inside the knots', () => {
    const train = draw(13, N, (q) => q ** 3);
    const c = isotonic(fitIsotonic(train.score, train.y));
    const first = c.x[0];
    const last = c.x[c.x.length - 1];
    let prev = -Infinity;
    let prevInside = -Infinity;
    for (let t = -0.1; t <= 1.1; t += 0.0005) {
      const v = applyCalibrator(c, t);
      expect(v).toBeGreaterThanOrEqual(prev);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
      if (t > first && t < last) {
        expect(v).toBeGreaterThan(prevInside);
        prevInside = v;
      }
      prev = v;
    }
    for (let i = 1; i < c.x.length; i++) {
      expect(c.x[i]).toBeGreaterThan(c.x[i - 1]);
      expect(c.y[i]).toBeGreaterThan(c.y[i - 1]); // equal-rate blocks are merged
    }
  });
});

describe('Platt scaling', () => {
  it('when labels come from a known sigmoid of the score, then a and b are recovered within 4 SE', () => {
    const A = -4;
    const B = 2;
    const rng = mulberry32(21);
    const s = new Float64Array(N);
    const y = new Uint8Array(N);
    // Fisher information of (a, b) at the true values: sum of p(1-p) [s^2 s; s 1]
    let i11 = 0;
    let i12 = 0;
    let i22 = 0;
    for (let i = 0; i < N; i++) {
      s[i] = rng.next();
      const p = 1 / (1 + Math.exp(A * s[i] + B));
      y[i] = rng.next() < p ? 1 : 0;
      const w = p * (1 - p);
      i11 += w * s[i] * s[i];
      i12 += w * s[i];
      i22 += w;
    }
    const det = i11 * i22 - i12 * i12;
    const seA = Math.sqrt(i22 / det); // asymptotic SE of the MLE (inverse Fisher information)
    const seB = Math.sqrt(i11 / det);
    const c = platt(fitPlatt(s, y));
    // the target smoothing shifts the optimum by O(1/N), negligible next to SE ~ 1/sqrt(N)
    expect(Math.abs(c.a - A)).toBeLessThan(4 * seA);
    expect(Math.abs(c.b - B)).toBeLessThan(4 * seB);
    expect(c.n).toBe(N);
  });

  it('when classes are perfectly separated, then the smoothed targets keep a and b finite', () => {
    const c = platt(fitPlatt(Float64Array.from([0, 0.1, 0.2, 0.8, 0.9, 1]), Uint8Array.from([0, 0, 0, 1, 1, 1])));
    expect(Number.isFinite(c.a) && Number.isFinite(c.b)).toBe(true);
    expect(c.a).toBeLessThan(0); // higher score, higher probability
    // t+ = 4/5 caps the fitted probability of the top rows well below 1 - 1e-3
    expect(applyCalibrator(c, 1)).toBeLessThan(0.999);
  });

  it('when a calibrator goes through JSON, then it maps scores identically', () => {
    const train = draw(22, 500, (q) => q ** 2);
    for (const c of [fitPlatt(train.score, train.y), fitIsotonic(train.score, train.y), { kind: 'identity' } as Calibrator]) {
      const back = JSON.parse(JSON.stringify(c)) as Calibrator;
      for (const t of [-1, 0, 0.2, 0.5, 0.77, 1, 2]) expect(applyCalibrator(back, t)).toBe(applyCalibrator(c, t));
    }
  });

  it('when the identity calibrator sees out-of-range scores, then it clamps them to [0,1]', () => {
    expect(Array.from(applyCalibratorBatch({ kind: 'identity' }, Float64Array.from([-0.5, 0.3, 1.5])))).toEqual([0, 0.3, 1]);
  });
});

describe('fitCalibrator', () => {
  it('when rows are below minIsotonicRows, then Platt; at or above, then isotonic', () => {
    const d = draw(31, 1000, (q) => q);
    expect(fitCalibrator(d.score.subarray(0, 999), d.y.subarray(0, 999)).kind).toBe('platt');
    expect(fitCalibrator(d.score, d.y).kind).toBe('isotonic'); // default 1000
    expect(fitCalibrator(d.score.subarray(0, 49), d.y.subarray(0, 49), { minIsotonicRows: 50 }).kind).toBe('platt');
    expect(fitCalibrator(d.score.subarray(0, 50), d.y.subarray(0, 50), { minIsotonicRows: 50 }).kind).toBe('isotonic');
  });

  it('when inputs are invalid, then RangeError names the bad value', () => {
    const s = Float64Array.from([0.1, 0.9, 0.5]);
    const y = Uint8Array.from([0, 1, 1]);
    expect(() => fitCalibrator(s, y.subarray(0, 2))).toThrow(/scores have length 3 but y has length 2/);
    expect(() => fitCalibrator(s.subarray(0, 1), y.subarray(0, 1))).toThrow(/at least 2 rows, got 1/);
    expect(() => fitCalibrator(s, Uint8Array.from([1, 1, 1]))).toThrow(/both classes, got 3 positives of 3 rows/);
    expect(() => fitCalibrator(s, Uint8Array.from([0, 2, 1]))).toThrow(/y\[1\] is 2/);
    expect(() => fitCalibrator(Float64Array.from([0.1, NaN, 0.5]), y)).toThrow(/scores\[1\] is NaN/);
    expect(() => fitCalibrator(s, y, { minIsotonicRows: 1.5 })).toThrow(/minIsotonicRows .* got 1.5/);
    expect(() => fitCalibrator(s, y, { minIsotonicRows: -1 })).toThrow(RangeError);
    expect(() => fitIsotonic(s, Uint8Array.from([0, 0, 0]))).toThrow(/got 0 positives of 3 rows/);
    expect(() => applyCalibrator(fitPlatt(s, y), NaN)).toThrow(/score is NaN/);
  });
});

describe('expected calibration error and reliability curve', () => {
  it('when p and y are split into 2 equal-mass bins by hand, then ECE is the weighted gap', () => {
    // sorted p: [.1 .2 | .7 .9], y: [0 1 | 1 1]; gaps |.15 - .5| = .35 and |.8 - 1| = .2
    // ECE = (2/4)(.35) + (2/4)(.2) = .275
    const y = Uint8Array.from([1, 0, 1, 1]);
    const p = Float64Array.from([0.7, 0.1, 0.9, 0.2]);
    expect(expectedCalibrationError(y, p, 2)).toBeCloseTo(0.275, 12);
    const r = reliabilityCurve(y, p, 2);
    expect(r.count).toEqual([2, 2]);
    expect(r.observedRate).toEqual([0.5, 1]);
    r.meanPredicted.forEach((v, i) => expect(v).toBeCloseTo([0.15, 0.8][i], 12));
  });

  it('when there are more bins than rows, then empty bins are left out', () => {
    const r = reliabilityCurve(Uint8Array.from([0, 1]), Float64Array.from([0.2, 0.6]), 5);
    expect(r.count).toEqual([1, 1]); // floor(i*2/5) for i=0..5 is 0,0,0,1,1,2
  });

  it('when y is drawn from p itself, then ECE is within binomial noise', () => {
    const d = draw(41, N, (q) => q);
    // each bin's gap is mean(p - y) over 2000 rows, SE <= BIN_SE = 0.0112; every bin within 3 SE
    // bounds the weighted average
    expect(expectedCalibrationError(d.y, d.score, BINS)).toBeLessThan(3 * BIN_SE);
  });

  it('when p is shifted up by 0.2 (clamped at 1), then ECE is near 0.18 and equals mean(p) - mean(y)', () => {
    const d = draw(42, N, (q) => Math.min(q + 0.2, 1));
    // every row's expected gap p - E[y] is positive (0.2, or 1 - q >= 0 for q >= 0.8), and at least
    // 0.1 per bin (the top two bins mix q in [0.8, 1]) against bin noise SE 0.011, so no bin's gap changes sign and
    // ECE = mean(p) - mean(y), whose expectation is 0.8*0.2 + integral_{0.8}^{1} (1-q) dq = 0.18
    const ece = expectedCalibrationError(d.y, d.score, BINS);
    let positives = 0;
    for (let i = 0; i < N; i++) positives += d.y[i];
    expect(ece).toBeCloseTo(meanProbability(d.score) - positives / N, 12);
    // SE of mean(p - y): label noise sqrt(E[q(1-q)]/N) = sqrt((1/6)/N) dominates the shift's own
    // sampling spread sqrt(Var(min(0.2, 1-q))/N) = sqrt(0.00227/N); 3 SE of the sum
    const se = Math.sqrt((1 / 6 + 0.00227) / N);
    expect(Math.abs(ece - 0.18)).toBeLessThan(3 * se);
  });

  it('when inputs are invalid, then RangeError names the bad value', () => {
    const y = Uint8Array.from([0, 1]);
    expect(() => expectedCalibrationError(y, Float64Array.from([0.2, 1.4]))).toThrow(/p\[1\] is 1.4/);
    expect(() => reliabilityCurve(y, Float64Array.from([0.2, 0.4]), 0)).toThrow(/bins .* got 0/);
    expect(() => meanProbability(new Float64Array(0))).toThrow(RangeError);
  });
});
