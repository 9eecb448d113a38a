import { describe, expect, it } from 'vitest';
import {
  pairedBootstrap, precisionAtRecall, rankScores, singleFeatureAuc, weightedRankMetrics,
} from '../../../ml/compare';
import { rocAuc } from '../../../ml/metrics';
import { mulberry32, type Rng } from '../../../ml/rng';
import { chooseThreshold } from '../../../ml/threshold';

/** Standard normal draws (Box–Muller). */
function normals(rng: Rng, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const a = 2 * Math.PI * rng.next();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/**
 * Labels with base rate `rate` and, per noise level, scores = label + N(0, sd²) with independent noise:
 * the true ROC AUC is Φ(1 / (sd·√2)), so a smaller sd is a strictly better model.
 */
function scoredData(seed: number, n: number, rate: number, sds: number[]): { y: Uint8Array; scores: Float64Array[] } {
  const rng = mulberry32(seed);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) y[i] = rng.next() < rate ? 1 : 0;
  const scores = sds.map((sd) => {
    const z = normals(rng, n);
    return z.map((v, i) => y[i] + sd * v);
  });
  return { y, scores };
}

/** Random labels and scores rounded to 2 decimals, so many scores tie (within and across classes). */
function tiedData(seed: number, n: number): { y: Uint8Array; p: Float64Array } {
  const rng = mulberry32(seed);
  const y = new Uint8Array(n);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.next() < 0.3 ? 1 : 0;
    p[i] = Math.round((0.3 * y[i] + 0.7 * rng.next()) * 100) / 100;
  }
  return { y, p };
}

describe('precisionAtRecall', () => {
  // y by descending distinct score: 1 1 0 1 0 0 1 0 (4 positives). Operating points (tp, fp):
  // 0.9 (1,0) 0.8 (2,0) 0.7 (2,1) 0.6 (3,1) 0.5 (3,2) 0.4 (3,3) 0.3 (4,3) 0.2 (4,4)
  const y = Uint8Array.from([1, 1, 0, 1, 0, 0, 1, 0]);
  const p = Float64Array.from([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]);

  it('when worked by hand, then it picks the best precision among points reaching the recall', () => {
    // recall >= 0.75: points 0.6 (3/4), 0.5 (3/5), 0.4 (3/6), 0.3 (4/7), 0.2 (4/8) -> 0.75 at 0.6
    expect(precisionAtRecall(y, p, 0.75)).toEqual({ precision: 0.75, recall: 0.75, threshold: 0.6 });
    // recall >= 0.5: 0.8 has precision 2/2 = 1, the first point reaching it (highest threshold wins ties)
    expect(precisionAtRecall(y, p, 0.5)).toEqual({ precision: 1, recall: 0.5, threshold: 0.8 });
    // recall 1 needs every positive: 0.3 (4/7) beats 0.2 (4/8)
    expect(precisionAtRecall(y, p, 1)).toEqual({ precision: 4 / 7, recall: 1, threshold: 0.3 });
  });

  it('when a positive ties with a negative, then the tie is one operating point', () => {
    // points: 0.9 (1,0), 0.5 (2,1), 0.1 (2,2); recall 1 cannot take the tied positive without the negative
    const r = precisionAtRecall(Uint8Array.from([1, 0, 1, 0]), Float64Array.from([0.9, 0.5, 0.5, 0.1]), 1);
    expect(r).toEqual({ precision: 2 / 3, recall: 1, threshold: 0.5 });
  });

  it('when the target carries rounding error (0.1 * 7 > 0.7), then recall 7/10 still reaches it', () => {
    // 10 positives ranked first: recall 7/10 = 0.7 < 0.1 * 7 = 0.7000000000000001 without the 1e-12 slack
    const yy = new Uint8Array(20).map((_, i) => (i < 10 ? 1 : 0));
    const pp = new Float64Array(20).map((_, i) => 1 - i / 20);
    expect(precisionAtRecall(yy, pp, 0.1 * 7)).toEqual({ precision: 1, recall: 0.7, threshold: pp[6] });
  });

  it('when compared with chooseThreshold on random tied data, then precision, recall and threshold are equal', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const d = tiedData(seed, 500);
      for (const target of [0.05, 0.3, 0.5, 0.8, 0.9, 0.95, 1]) {
        const ref = chooseThreshold(d.y, d.p, target);
        const got = precisionAtRecall(d.y, d.p, target);
        // both count the same integer tp / (tp + fp) at the same operating point: exact equality
        expect(got.threshold).toBe(ref.threshold);
        expect(got.precision).toBe(ref.precision);
        expect(got.recall).toBe(ref.recall);
      }
    }
  });

  it('when there is no positive or the target is outside (0, 1], then a RangeError names it', () => {
    expect(() => precisionAtRecall(new Uint8Array(3), new Float64Array(3), 0.5)).toThrow(/positive/);
    expect(() => precisionAtRecall(y, p, 0)).toThrow(/targetRecall must be in \(0, 1\], got 0/);
    expect(() => precisionAtRecall(y, p, 1.5)).toThrow(/got 1.5/);
    expect(() => precisionAtRecall(y, p, Number.NaN)).toThrow(/got NaN/);
  });
});

describe('weightedRankMetrics', () => {
  it('when all weights are 1, then ROC AUC equals rocAuc and precision equals precisionAtRecall on tied data', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const d = tiedData(seed, 400);
      const ranked = rankScores(d.y, d.p);
      const w = new Uint32Array(d.y.length).fill(1);
      for (const target of [0.3, 0.8, 1]) {
        const got = weightedRankMetrics(ranked, w, target);
        // same trapezoid sums in the same order; 1e-12 allows only for float summation order
        expect(Math.abs(got.rocAuc - rocAuc(d.y, d.p))).toBeLessThanOrEqual(1e-12);
        const ref = precisionAtRecall(d.y, d.p, target);
        expect(got.precisionAtRecall).toBe(ref.precision);
        expect(got.threshold).toBe(ref.threshold);
        expect(got.recall).toBe(ref.recall);
      }
    }
  });

  it('when a row has weight k (0 to 3), then the metrics equal those of the data with the row repeated k times', () => {
    const rng = mulberry32(7);
    for (let seed = 1; seed <= 20; seed++) {
      const d = tiedData(seed, 300);
      const w = new Uint32Array(d.y.length).map(() => rng.int(4));
      const yDup: number[] = [];
      const pDup: number[] = [];
      for (let i = 0; i < d.y.length; i++) {
        for (let k = 0; k < w[i]; k++) {
          yDup.push(d.y[i]);
          pDup.push(d.p[i]);
        }
      }
      const yd = Uint8Array.from(yDup);
      const pd = Float64Array.from(pDup);
      const got = weightedRankMetrics(rankScores(d.y, d.p), w, 0.8);
      // integer counts in both computations; 1e-12 allows only for float summation order
      expect(Math.abs(got.rocAuc - rocAuc(yd, pd))).toBeLessThanOrEqual(1e-12);
      const ref = precisionAtRecall(yd, pd, 0.8);
      expect(got.precisionAtRecall).toBe(ref.precision);
      expect(got.threshold).toBe(ref.threshold);
      expect(got.positives).toBe(yDup.filter((v) => v === 1).length);
      expect(got.negatives).toBe(yDup.filter((v) => v === 0).length);
    }
  });

  it('when every weight is 2, then the metrics equal those with unit weights', () => {
    const d = tiedData(3, 300);
    const ranked = rankScores(d.y, d.p);
    const one = weightedRankMetrics(ranked, new Uint32Array(300).fill(1), 0.8);
    const two = weightedRankMetrics(ranked, new Uint32Array(300).fill(2), 0.8);
    // doubling every count scales tp, fp, P and N by 2: ratios are unchanged (exact in binary floats)
    expect(two.rocAuc).toBe(one.rocAuc);
    expect(two.precisionAtRecall).toBe(one.precisionAtRecall);
    expect(two.positives).toBe(2 * one.positives);
  });

  it('when weights leave one class empty or have the wrong length, then a RangeError says so', () => {
    const ranked = rankScores(Uint8Array.from([1, 0, 1]), Float64Array.from([0.9, 0.5, 0.1]));
    expect(() => weightedRankMetrics(ranked, Uint32Array.from([1, 0, 1]), 0.5)).toThrow(/negatives=0/);
    expect(() => weightedRankMetrics(ranked, Uint32Array.from([1, 1]), 0.5)).toThrow(/weights has length 2/);
  });
});

describe('pairedBootstrap', () => {
  it('when both models are the same, then diff is exactly 0 and the interval is [0, 0]', () => {
    const { y, scores } = scoredData(11, 2000, 0.3, [1]);
    // a copy, not the same array: equal scores must give equal ranking and equal metrics
    const r = pairedBootstrap(y, scores[0], Float64Array.from(scores[0]), { targetRecall: 0.8, resamples: 200 });
    expect(r.diff).toEqual({ precisionAtRecall: 0, rocAuc: 0 });
    expect(r.interval).toEqual({ precisionAtRecall: [0, 0], rocAuc: [0, 0] });
    expect(r.candidate).toEqual(r.production);
  });

  it('when reporting full-sample metrics, then they equal precisionAtRecall and rocAuc', () => {
    const { y, scores } = scoredData(12, 1500, 0.3, [0.5, 2]);
    const r = pairedBootstrap(y, scores[0], scores[1], { targetRecall: 0.8, resamples: 50 });
    expect(r.n).toBe(1500);
    expect(r.positives).toBe(y.reduce((s, v) => s + v, 0));
    // same integer counts as the references; 1e-12 allows only for float summation order
    expect(Math.abs(r.candidate.rocAuc - rocAuc(y, scores[0]))).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(r.production.rocAuc - rocAuc(y, scores[1]))).toBeLessThanOrEqual(1e-12);
    expect(r.candidate.precisionAtRecall).toBe(precisionAtRecall(y, scores[0], 0.8).precision);
    expect(r.production.precisionAtRecall).toBe(precisionAtRecall(y, scores[1], 0.8).precision);
    expect(r.diff.rocAuc).toBe(r.candidate.rocAuc - r.production.rocAuc);
    expect({ resamples: r.resamples, seed: r.seed, confidence: r.confidence }).toEqual({ resamples: 50, seed: 42, confidence: 0.95 });
  });

  it('when the candidate has much less noise, then both intervals lie above 0; swapped, below 0', () => {
    // true AUC: candidate Φ(1/(0.5√2)) = 0.92, production Φ(1/(2√2)) = 0.64, a gap of 0.28; with ~900
    // positives each AUC has standard error < 0.5/√900 ≈ 0.017, so the gap is > 8 standard errors of the
    // difference. Precision at recall 0.8: ≈ 0.74 vs 0.35 by the normal quantiles, again far apart.
    const { y, scores } = scoredData(21, 3000, 0.3, [0.5, 2]);
    const better = pairedBootstrap(y, scores[0], scores[1], { targetRecall: 0.8, resamples: 500, seed: 5 });
    expect(better.interval.rocAuc[0]).toBeGreaterThan(0);
    expect(better.interval.precisionAtRecall[0]).toBeGreaterThan(0);
    const worse = pairedBootstrap(y, scores[1], scores[0], { targetRecall: 0.8, resamples: 500, seed: 5 });
    expect(worse.interval.rocAuc[1]).toBeLessThan(0);
    expect(worse.interval.precisionAtRecall[1]).toBeLessThan(0);
    // same seed, same rows: every resampled difference is negated, so the interval mirrors
    // (1e-12 allows only for the rounding of the percentile interpolation)
    expect(Math.abs(worse.interval.rocAuc[0] + better.interval.rocAuc[1])).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(worse.interval.rocAuc[1] + better.interval.rocAuc[0])).toBeLessThanOrEqual(1e-12);
    // the point estimate lies inside its own interval: the bootstrap distribution centres on it
    expect(better.diff.rocAuc).toBeGreaterThan(better.interval.rocAuc[0]);
    expect(better.diff.rocAuc).toBeLessThan(better.interval.rocAuc[1]);
  });

  it('when called twice with one seed, then results are identical; with another seed, the interval differs', () => {
    const { y, scores } = scoredData(31, 1000, 0.3, [1, 1.2]);
    const opts = { targetRecall: 0.8, resamples: 100, seed: 9 };
    expect(pairedBootstrap(y, scores[0], scores[1], opts)).toEqual(pairedBootstrap(y, scores[0], scores[1], opts));
    const other = pairedBootstrap(y, scores[0], scores[1], { ...opts, seed: 10 });
    expect(other.interval.rocAuc).not.toEqual(pairedBootstrap(y, scores[0], scores[1], opts).interval.rocAuc);
  });

  it('when resamples often lack the only positive, then they are redrawn and the interval stays finite', () => {
    // 1 positive in 6 rows: a draw misses it with probability (5/6)^6 ≈ 0.33, so 500 resamples would
    // almost surely include one; scored, such a draw gives AUC 0/0 = NaN and a NaN interval end
    const y = Uint8Array.from([0, 1, 0, 0, 0, 0]);
    const a = Float64Array.from([0.1, 0.9, 0.3, 0.5, 0.2, 0.4]);
    const b = Float64Array.from([0.6, 0.5, 0.3, 0.1, 0.2, 0.4]);
    const r = pairedBootstrap(y, a, b, { targetRecall: 1, resamples: 500 });
    for (const v of [...r.interval.rocAuc, ...r.interval.precisionAtRecall]) expect(Number.isFinite(v)).toBe(true);
  });

  it('when two models have equal true quality, then the 95% interval contains 0 in at least 85 of 100 fresh datasets', () => {
    // Both = label + independent N(0, 1): the true difference is 0 for both metrics. If coverage is the
    // nominal 0.95, P(Binomial(100, 0.95) <= 84) = 3.7e-5; even at 0.92 (mild percentile-bootstrap
    // undercoverage) it is 0.006 — so >= 85 fails only if coverage is materially below nominal.
    const trials = 100;
    let coveredAuc = 0;
    let coveredPrecision = 0;
    for (let t = 0; t < trials; t++) {
      const { y, scores } = scoredData(1000 + t, 2000, 0.3, [1, 1]);
      const r = pairedBootstrap(y, scores[0], scores[1], { targetRecall: 0.8, resamples: 300, seed: t });
      const [aLo, aHi] = r.interval.rocAuc;
      const [pLo, pHi] = r.interval.precisionAtRecall;
      // independent noise makes the paired differences vary: a degenerate [0, 0] would cover trivially
      expect(aHi).toBeGreaterThan(aLo);
      expect(pHi).toBeGreaterThan(pLo);
      if (aLo <= 0 && 0 <= aHi) coveredAuc++;
      if (pLo <= 0 && 0 <= pHi) coveredPrecision++;
    }
    expect(coveredAuc / trials).toBeGreaterThanOrEqual(0.85);
    expect(coveredPrecision / trials).toBeGreaterThanOrEqual(0.85);
  }, 30_000);

  // Speed is a bench's business (bench/decisions.ts promotion times the gate), not a timed test.
  it('when run with 1000 resamples on 20k rows, then every resample is drawn and a real AUC gap is resolved', () => {
    // score = label + sd·N(0,1): true ROC AUC Φ(1/(sd·√2)) is 0.760 at sd 1 and 0.681 at sd 1.5, a gap
    // of 0.079 against a standard error near 0.005 at 20k rows: the interval lies above 0.
    const { y, scores } = scoredData(41, 20_000, 0.3, [1, 1.5]);
    const r = pairedBootstrap(y, scores[0]!, scores[1]!, { targetRecall: 0.8, resamples: 1000 });
    expect(r.resamples).toBe(1000);
    expect(r.interval.rocAuc[0]).toBeGreaterThan(0);
    expect(r.interval.rocAuc[0]).toBeLessThanOrEqual(r.interval.rocAuc[1]);
  }, 30_000);

  it('when options are out of range, then a RangeError names the value', () => {
    const y = Uint8Array.from([1, 0, 1, 0]);
    const p = Float64Array.from([0.9, 0.2, 0.6, 0.4]);
    expect(() => pairedBootstrap(y, p, p, { targetRecall: 0 })).toThrow(/targetRecall must be in \(0, 1\], got 0/);
    expect(() => pairedBootstrap(y, p, p, { targetRecall: 0.5, resamples: 0 })).toThrow(/resamples must be an integer >= 1, got 0/);
    expect(() => pairedBootstrap(y, p, p, { targetRecall: 0.5, seed: 1.5 })).toThrow(/seed must be an integer, got 1.5/);
    expect(() => pairedBootstrap(y, p, p, { targetRecall: 0.5, confidence: 1 })).toThrow(/confidence must be in \(0, 1\), got 1/);
    expect(() => pairedBootstrap(new Uint8Array(4), p, p, { targetRecall: 0.5 })).toThrow(/positives=0/);
    expect(() => pairedBootstrap(y, p, Float64Array.from([1, 2]), { targetRecall: 0.5 })).toThrow(/length/);
  });
});

describe('singleFeatureAuc', () => {
  const { y, scores } = scoredData(51, 1000, 0.3, [1]);
  const rows = y.length;
  const cols = 5;
  // columns: label, constant, informative x, -x, pure noise
  const noise = normals(mulberry32(52), rows);
  const X = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    X[i * cols] = y[i];
    X[i * cols + 1] = 3.5;
    X[i * cols + 2] = scores[0][i];
    X[i * cols + 3] = -scores[0][i];
    X[i * cols + 4] = noise[i];
  }
  const auc = singleFeatureAuc(X, rows, cols, y);

  it('when a column equals the label, then it gets 1', () => {
    expect(auc[0]).toBe(1); // every positive outranks every negative: area = P·N exactly
  });

  it('when a column is constant, then it gets 0.5', () => {
    expect(auc[1]).toBe(0.5); // one tied run: every pair counts 1/2
  });

  it('when a column is negated, then it gets the same value as the column itself', () => {
    expect(auc[3]).toBe(auc[2]); // area(-x) = P·N - area(x) exactly (sums of half-integers)
    // and that value is rocAuc of the column (1e-12: float division order only)
    expect(Math.abs(auc[2] - Math.max(rocAuc(y, scores[0]), 1 - rocAuc(y, scores[0])))).toBeLessThanOrEqual(1e-12);
  });

  it('when a column is noise, then it stays near 0.5', () => {
    // AUC of an unrelated score has standard error sqrt((P+N+1)/(12·P·N)) ≈ 0.02 for ~300/700 rows;
    // max(AUC, 1 - AUC) - 0.5 < 0.1 is a 5 standard error bound
    expect(auc[4]).toBeGreaterThanOrEqual(0.5);
    expect(auc[4]).toBeLessThan(0.6);
  });

  it('when shapes disagree, a class is missing or a value is NaN, then a RangeError names it', () => {
    expect(() => singleFeatureAuc(new Float64Array(5), 2, 3, Uint8Array.from([0, 1]))).toThrow(/X has length 5 but rows \* cols = 6/);
    expect(() => singleFeatureAuc(new Float64Array(6), 2, 3, Uint8Array.from([0, 1, 1]))).toThrow(/y has length 3/);
    expect(() => singleFeatureAuc(new Float64Array(6), 2, 3, Uint8Array.from([1, 1]))).toThrow(/negatives=0/);
    expect(() => singleFeatureAuc(Float64Array.from([0, 1, 2, 3, Number.NaN, 5]), 2, 3, Uint8Array.from([0, 1]))).toThrow(/X\[1, 1\] is NaN/);
  });
});
