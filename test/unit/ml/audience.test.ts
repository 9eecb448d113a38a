import { describe, expect, it } from 'vitest';
import { audienceRuleSchema, formatRule, savedAudienceSchema, type AudienceRule } from '../../../common/audience';
import {
  AudienceCurve, HoldoutCurve, expectedOutcome, gainsByDecile, observedAtShare, observedGainsByDecile, plainSummary,
  scoreHistogram, selectAudience, wilsonInterval,
} from '../../../ml/audience';
import { seededRng } from '../../../ml/rng';

/** p_i = (i + 0.5) / n, descending. The top k sum to k - k^2 / (2n) and all n to n / 2, so at share
 * s = k / n: expected recall = s (2 - s), expected precision = 1 - s / 2, lift = 2 - s. */
function grid(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => (n - i - 0.5) / n);
}

/** A perfectly calibrated holdout: p on a grid, y ~ Bernoulli(p) from a seeded PRNG. */
function calibratedHoldout(m: number, seed: number): HoldoutCurve {
  const rng = seededRng(seed);
  const p = grid(m);
  const y = Uint8Array.from(p, (q) => (rng.next() < q ? 1 : 0));
  return HoldoutCurve.fromLabelled(p, y);
}

const N = 1000;
const curve = AudienceCurve.fromProbabilities(grid(N).reverse()); // ascending in: the curve sorts

describe('audience rule schema', () => {
  it('when rules are valid, then they parse and format as a marketer reads them', () => {
    const rules: [AudienceRule, string][] = [
      [{ kind: 'top_percent', percent: 10 }, 'top 10 %'],
      [{ kind: 'top_n', n: 500 }, 'top 500 users'],
      [{ kind: 'target_recall', recall: 0.9 }, 'recall ≥ 0.90'],
      [{ kind: 'min_precision', precision: 0.4 }, 'precision ≥ 0.40'],
    ];
    for (const [rule, text] of rules) {
      expect(audienceRuleSchema.parse(rule)).toEqual(rule);
      expect(formatRule(rule)).toBe(text);
    }
  });

  it.each([
    [{ kind: 'top_percent', percent: 0 }, 'percent must be in (0, 100], got 0'],
    [{ kind: 'top_percent', percent: 120 }, 'percent must be in (0, 100], got 120'],
    [{ kind: 'top_n', n: 0 }, 'n must be an integer ≥ 1, got 0'],
    [{ kind: 'top_n', n: 1.5 }, 'n must be an integer ≥ 1, got 1.5'],
    [{ kind: 'target_recall', recall: 1 }, 'recall must be in (0, 1), got 1'],
    [{ kind: 'min_precision', precision: 0 }, 'precision must be in (0, 1), got 0'],
    [{ kind: 'top_percent', percent: '10' }, 'percent must be a number, got "10"'],
    [{ kind: 'top_percent' }, 'percent is required'],
    [{ kind: 'top_decile', percent: 10 }, 'kind must be one of top_percent, top_n, target_recall, min_precision, got "top_decile"'],
  ])('when the rule is %j, then it is rejected with a message naming the field', (rule, message) => {
    const r = audienceRuleSchema.safeParse(rule);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].message).toBe(message);
  });

  it('when a saved audience has a bad name or an overlong description, then the message names the field', () => {
    const rule = { kind: 'top_n', n: 5 };
    expect(savedAudienceSchema.parse({ name: 'big-spenders_1', rule })).toEqual({ name: 'big-spenders_1', rule });
    const badName = savedAudienceSchema.safeParse({ name: 'Big Spenders', rule });
    expect(badName.error?.issues[0].message).toMatch(/^name must be .* got "Big Spenders"$/);
    const longText = savedAudienceSchema.safeParse({ name: 'a', rule, description: 'x'.repeat(501) });
    expect(longText.error?.issues[0].message).toBe('description must be at most 500 characters, got 501');
    const nested = savedAudienceSchema.safeParse({ name: 'a', rule: { kind: 'top_n', n: 0 } });
    expect(nested.error?.issues[0].path).toEqual(['rule', 'n']);
  });
});

describe('expected outcomes on a uniform grid (analytic truth)', () => {
  it('when the rule is top 10 %, then 100 users hold recall 0.19 at precision 0.95, lift 1.9', () => {
    const o = curve.forRule({ kind: 'top_percent', percent: 10 });
    expect(o.size).toBe(100);
    expect(o.expectedBuyers).toBeCloseTo(95, 9); // 100 - 100^2 / 2000
    expect(o.expectedRecall).toBeCloseTo(0.19, 12);
    expect(o.expectedPrecision).toBeCloseTo(0.95, 12);
    expect(o.lift).toBeCloseTo(1.9, 12);
    expect(o.threshold).toBeCloseTo(0.9005, 12); // p of the 100th user
    expect(plainSummary(o)).toBe('the top 10 % (100 users) hold 19 % of expected buyers, 1.9× random');
  });

  it('when the rule is top 100 %, then recall and lift are exactly 1', () => {
    const o = curve.forRule({ kind: 'top_percent', percent: 100 });
    expect([o.size, o.share, o.expectedRecall, o.lift]).toEqual([N, 1, 1, 1]);
    expect(plainSummary(o)).toBe('the whole population (1,000 users) holds 100 % of expected buyers, 1.0× random');
  });

  it('when top_n exceeds the population or percent has float residue, then counts are exact', () => {
    expect(curve.select({ kind: 'top_n', n: 5000 }).size).toBe(N);
    // 0.07 % of 10 000 users is 7 although 0.07 * 10000 / 100 is 7.000000000000001 in floats
    expect(AudienceCurve.fromProbabilities(grid(10_000)).select({ kind: 'top_percent', percent: 0.07 }).size).toBe(7);
  });

  it('when the rule is a recall target, then it takes the smallest size that reaches it', () => {
    const { size, basis } = curve.select({ kind: 'target_recall', recall: 0.9 });
    expect(size).toBe(Math.ceil(N * (1 - Math.sqrt(0.1)))); // s (2 - s) >= 0.9  <=>  s >= 1 - sqrt(0.1)
    expect(basis).toBe('expected');
    expect(curve.at(size).expectedRecall).toBeGreaterThanOrEqual(0.9);
    expect(curve.at(size - 1).expectedRecall).toBeLessThan(0.9);
  });

  it('when the rule is a precision floor, then it takes the largest size that meets it, or none', () => {
    const { size } = curve.select({ kind: 'min_precision', precision: 0.6123 });
    expect(size).toBe(Math.floor(2 * N * (1 - 0.6123))); // 1 - s / 2 >= 0.6123
    expect(curve.at(size).expectedPrecision).toBeGreaterThanOrEqual(0.6123);
    expect(curve.at(size + 1).expectedPrecision).toBeLessThan(0.6123);
    // the best user has p = 0.9995, so no audience reaches 0.9999
    expect(curve.select({ kind: 'min_precision', precision: 0.9999 })).toEqual({ size: 0, threshold: null, tiedLeftOut: 0, basis: 'expected' });
  });

  it('when the size grows, then expected buyers and recall never fall and precision never rises', () => {
    for (let k = 1; k <= N; k++) {
      const [a, b] = [curve.at(k - 1), curve.at(k)];
      expect(b.expectedBuyers).toBeGreaterThanOrEqual(a.expectedBuyers);
      expect(b.expectedRecall!).toBeGreaterThanOrEqual(a.expectedRecall!);
      if (k > 1) expect(b.expectedPrecision!).toBeLessThanOrEqual(a.expectedPrecision!);
    }
  });

  it('when gains are tabulated by decile, then they follow s (2 - s) and end at 1', () => {
    const rows = gainsByDecile(curve);
    expect(rows).toHaveLength(10);
    rows.forEach((r, i) => {
      const s = (i + 1) / 10;
      expect(r.size).toBe(100 * (i + 1));
      expect(r.buyersShare).toBeCloseTo(s * (2 - s), 12);
      expect(r.cumulativeLift).toBeCloseTo(2 - s, 12);
    });
    expect(rows[9].buyersShare).toBe(1);
    expect(rows[0].decileLift).toBeCloseTo(1.9, 12); // mean p 0.95 over base rate 0.5
  });

  it('when every user has the same p, then lift is 1 at every size and a cut reports the ties left out', () => {
    const flat = AudienceCurve.fromProbabilities(new Float64Array(N).fill(0.4));
    for (let k = 1; k <= N; k++) expect(flat.at(k).lift).toBeCloseTo(1, 12);
    for (const r of gainsByDecile(flat)) expect([r.cumulativeLift, r.decileLift]).toEqual([expect.closeTo(1, 12), expect.closeTo(1, 12)]);
    expect(flat.select({ kind: 'top_n', n: 10 })).toEqual({ size: 10, threshold: 0.4, tiedLeftOut: N - 10, basis: 'count' });
    expect(flat.select({ kind: 'min_precision', precision: 0.4 }).size).toBe(N);
  });

  it('when the mean meets a floor exactly in decimals, then float rounding of the sum does not drop a user', () => {
    // 0.7 + 0.1 is 0.7999999999999999 in doubles, below 2 * 0.4; the mean the marketer sees is 0.4
    expect(AudienceCurve.fromProbabilities([0.7, 0.1]).select({ kind: 'min_precision', precision: 0.4 }).size).toBe(2);
  });

  it('when the free functions get a descending array, then they agree with the curve', () => {
    const desc = grid(N);
    expect(selectAudience(desc, { kind: 'target_recall', recall: 0.5 })).toEqual(curve.select({ kind: 'target_recall', recall: 0.5 }));
    expect(expectedOutcome(desc, 250)).toEqual(curve.at(250));
  });
});

describe('empty and degenerate populations', () => {
  it('when the population is empty, then sizes are 0 and ratios are null', () => {
    const empty = AudienceCurve.fromProbabilities([]);
    expect(empty.forRule({ kind: 'top_percent', percent: 10 })).toMatchObject({ size: 0, threshold: null, share: null, lift: null });
    expect(empty.select({ kind: 'target_recall', recall: 0.5 }).size).toBe(0);
    expect(gainsByDecile(empty).every((r) => r.size === 0 && r.buyersShare === null)).toBe(true);
    expect(plainSummary(empty.at(0))).toBe('the population is empty');
    expect(plainSummary(curve.at(0))).toBe('an empty audience holds no expected buyers');
  });

  it('when no buyer is expected, then recall and lift are null and a recall target takes nobody', () => {
    const zero = AudienceCurve.fromProbabilities(new Float64Array(50));
    expect(zero.at(10)).toMatchObject({ expectedRecall: null, lift: null, expectedPrecision: 0 });
    expect(zero.select({ kind: 'target_recall', recall: 0.5 }).size).toBe(0);
  });

  it('when input is bad, then RangeError names the index, value or field', () => {
    expect(() => AudienceCurve.fromProbabilities([0.1, 0.2, 0.3, NaN])).toThrow(new RangeError('p[3] is NaN; probabilities must be in [0, 1]'));
    expect(() => AudienceCurve.fromProbabilities([1.5])).toThrow(/p\[0\] is 1.5/);
    expect(() => selectAudience(Float64Array.from([0.2, 0.5]), { kind: 'top_n', n: 1 })).toThrow(/pSorted\[1\] is 0.5 after 0.2/);
    expect(() => curve.at(N + 1)).toThrow(RangeError);
    expect(() => curve.select({ kind: 'top_percent', percent: 120 })).toThrow(new RangeError('percent must be in (0, 100], got 120'));
    expect(() => scoreHistogram([0.5], 0)).toThrow(/bins/);
  });
});

describe('score histogram', () => {
  it('when p is a uniform grid, then 20 bins hold equal counts and p = 1 lands in the last bin', () => {
    expect(scoreHistogram(grid(N)).counts).toEqual(new Array(20).fill(N / 20));
    const h = scoreHistogram([0, 1, 1], 4);
    expect(h).toEqual({ edges: [0, 0.25, 0.5, 0.75, 1], counts: [1, 0, 0, 2] });
  });
});

describe('observed outcomes on a holdout', () => {
  const M = 2000;
  const holdout = calibratedHoldout(M, 7);
  const population = AudienceCurve.fromProbabilities(grid(10_000));

  it('when the holdout is calibrated, then the expected top-10 % precision lies in the observed Wilson interval', () => {
    const expected = population.forRule({ kind: 'top_percent', percent: 10 });
    const observed = observedAtShare(holdout, expected.share!);
    expect(observed.size).toBe(200);
    const [lo, hi] = observed.precisionInterval!;
    expect(expected.expectedPrecision!).toBeGreaterThanOrEqual(lo);
    expect(expected.expectedPrecision!).toBeLessThanOrEqual(hi);
  });

  it('when repeated over 400 seeds, then the Wilson interval covers the expected precision about 95 % of the time', () => {
    let covered = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const [lo, hi] = observedAtShare(calibratedHoldout(M, seed), 0.1).precisionInterval!;
      if (lo <= 0.95 && 0.95 <= hi) covered++;
    }
    // 0.95 minus 3 standard errors of a coverage rate over 400 runs (sqrt(.95 * .05 / 400) = 0.011);
    // within-decile p varies, which only narrows the spread of buyers, so coverage is not below nominal
    expect(covered / 400).toBeGreaterThanOrEqual(0.95 - 3 * Math.sqrt((0.95 * 0.05) / 400));
  });

  it('when the whole holdout is taken, then observed recall and lift are 1 and decile gains end at 1', () => {
    expect(observedAtShare(holdout, 1)).toMatchObject({ size: M, observedRecall: 1, lift: 1 });
    const rows = observedGainsByDecile(holdout);
    expect(rows[9].buyersShare).toBe(1);
    for (let d = 1; d < 10; d++) expect(rows[d].buyersShare!).toBeGreaterThanOrEqual(rows[d - 1].buyersShare!);
  });

  it('when a cut splits a tie group, then its buyers are averaged and row order does not matter', () => {
    const p = [0.9, 0.5, 0.5, 0.5, 0.5];
    const a = HoldoutCurve.fromLabelled(p, [1, 1, 1, 0, 0]);
    const b = HoldoutCurve.fromLabelled(p, [1, 0, 0, 1, 1]);
    expect(a.at(2).observedBuyers).toBe(1.5); // 1 + 2 buyers / 4 tied users
    expect(b.at(2)).toEqual(a.at(2));
  });

  it('when rules are judged on the holdout, then the recall cut is minimal and the precision cut maximal', () => {
    const n = population.n;
    const r = population.select({ kind: 'target_recall', recall: 0.8 }, holdout);
    expect(r.basis).toBe('observed');
    const atR = observedAtShare(holdout, r.size / n);
    expect(atR.observedRecall!).toBeGreaterThanOrEqual(0.8);
    expect(holdout.at(atR.size - 1).observedRecall!).toBeLessThan(0.8);
    const q = population.select({ kind: 'min_precision', precision: 0.7 }, holdout);
    const atQ = observedAtShare(holdout, q.size / n);
    expect(atQ.observedPrecision!).toBeGreaterThanOrEqual(0.7);
    for (let k = atQ.size + 1; k <= M; k++) expect(holdout.at(k).observedPrecision!).toBeLessThan(0.7);
  });

  it('when the population is not a multiple of the holdout, then every population share maps back to the holdout cut it came from', () => {
    const small = calibratedHoldout(1000, 3);
    const pop = AudienceCurve.fromProbabilities(grid(1003));
    for (let recall = 0.05; recall < 1; recall += 0.05) {
      const m = small.minSizeForRecall(recall);
      const { size } = pop.select({ kind: 'target_recall', recall }, small);
      expect(observedAtShare(small, size / pop.n).size).toBe(m);
    }
  });

  it('when labels or lengths are bad, then RangeError names them', () => {
    expect(() => HoldoutCurve.fromLabelled([0.1, 0.2], [0, 2])).toThrow(/y\[1\] is 2/);
    expect(() => HoldoutCurve.fromLabelled([0.1, 0.2], [0])).toThrow(/length/);
    expect(() => observedAtShare(holdout, 1.2)).toThrow(/share must be in \[0, 1\], got 1.2/);
  });

  it('when counts are small, then Wilson matches its closed forms', () => {
    const z = 1.959963984540054;
    // 0 of 10: the interval is [0, z^2 / (n + z^2)]
    expect(wilsonInterval(0, 10)![1]).toBeCloseTo((z * z) / (10 + z * z), 12);
    // 5 of 10: symmetric about 0.5, 0.237 to 0.763 in published tables
    const [lo, hi] = wilsonInterval(5, 10)!;
    expect(lo + hi).toBeCloseTo(1, 12);
    expect(lo).toBeCloseTo(0.2366, 4);
    expect(wilsonInterval(0, 0)).toBeNull();
  });
});
