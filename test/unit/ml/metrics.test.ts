import { describe, expect, it } from 'vitest';
import {
  averagePrecision, brierScore, confusionAt, evaluateBinary, liftAtTopK, logLoss, prCurve,
  precisionRecallF1, rocAuc, rocCurve,
} from '../../../ml/metrics';

const SMALL_Y = Uint8Array.from([1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0]);
const SMALL_P = Float64Array.from([0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.55, 0.5, 0.4, 0.4, 0.35, 0.3, 0.3, 0.2, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05]);

/** Same integer formulas as formula_vectors() in bench/sklearn_expected.py. */
function formulaVectors(n = 200): { y: Uint8Array; p: Float64Array } {
  const p = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = (1 + ((i * 37) % 99)) / 100;
    y[i] = p[i] + (((i * 29) % 17) / 17) * 0.6 > 0.8 ? 1 : 0;
  }
  return { y, p };
}

const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);

// Expected values printed by `.tools/venv-bench/bin/python bench/sklearn_expected.py`
// (scikit-learn 1.6.1, bench/requirements.txt); 1e-12 tolerance covers float summation order only.
const SKLEARN = {
  small: {
    roc_auc: 0.640625, average_precision: 0.6020375457875458, tp: 4, fp: 4, tn: 8, fn: 4,
    precision: 0.5, recall: 0.5, f1: 0.5, brier: 0.240125, log_loss: 0.7044788290454647,
    roc_points: 14, roc_fpr_tpr_sum: 13.583333333333332, pr_points: 13, pr_precision_sum: 7.0972347097347095, pr_recall_sum: 7.75,
  },
  formula: {
    roc_auc: 0.9377443609022557, average_precision: 0.9348070449438776, tp: 83, fp: 17, tn: 88, fn: 12,
    precision: 0.83, recall: 0.8736842105263158, f1: 0.8512820512820513, brier: 0.11527249999999999, log_loss: 0.37431836525197737,
    roc_points: 100, roc_fpr_tpr_sum: 101.56240601503761, pr_points: 99, pr_precision_sum: 78.5669334780768, pr_recall_sum: 72.50526315789475,
  },
} as const;

describe('metrics, hand-computed cases', () => {
  it('when scores rank every positive above every negative, then ROC AUC and AP are 1', () => {
    const y = Uint8Array.from([0, 0, 1, 1]);
    const p = Float64Array.from([0.1, 0.2, 0.8, 0.9]);
    expect(rocAuc(y, p)).toBe(1);
    expect(averagePrecision(y, p)).toBe(1);
  });

  it('when all scores tie, then ROC AUC is 0.5 (ties count half, as scikit-learn)', () => {
    const y = Uint8Array.from([0, 1, 0, 1, 1]);
    expect(rocAuc(y, new Float64Array(5).fill(0.3))).toBe(0.5);
  });

  it('when one positive ties with one negative, then that pair counts half', () => {
    // pairs (pos, neg): (0.8 vs 0.3) win, (0.8 vs 0.5) win, (0.5 vs 0.3) win, (0.5 vs 0.5) half -> 3.5 / 4
    const y = Uint8Array.from([1, 1, 0, 0]);
    const p = Float64Array.from([0.8, 0.5, 0.5, 0.3]);
    expect(rocAuc(y, p)).toBe(0.875);
  });

  it('when the ranking is y=[1,0,1,0] by descending score, then AP = (1/2)(1) + (1/2)(2/3)', () => {
    const y = Uint8Array.from([1, 0, 1, 0]);
    const p = Float64Array.from([0.9, 0.8, 0.7, 0.6]);
    expect(averagePrecision(y, p)).toBeCloseTo(0.5 + (0.5 * 2) / 3, 15);
  });

  it('when thresholding at 0.5, then a score equal to 0.5 is predicted positive', () => {
    const c = confusionAt(Uint8Array.from([1, 0, 1, 0]), Float64Array.from([0.5, 0.5, 0.2, 0.1]), 0.5);
    expect(c).toEqual({ tp: 1, fp: 1, tn: 1, fn: 1 });
  });

  it('when nothing is predicted positive, then precision and F1 are 0 (zero_division=0)', () => {
    expect(precisionRecallF1({ tp: 0, fp: 0, tn: 3, fn: 2 })).toEqual({ precision: 0, recall: 0, f1: 0 });
  });

  it('when scores are 0 and 1 exactly, then log loss is clipped at eps 1e-15 rather than infinite', () => {
    const loss = logLoss(Uint8Array.from([1, 0]), Float64Array.from([0, 1]));
    // the upper clip 1 - 1e-15 is not exact in float64, so the second term is computed the same way
    expect(loss).toBeCloseTo((-Math.log(1e-15) - Math.log(1 - (1 - 1e-15))) / 2, 12);
  });

  it('when the top 25% holds both positives of 8 rows, then lift is 4 and capture is 1', () => {
    const y = Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0]);
    const p = Float64Array.from([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]);
    expect(liftAtTopK(y, p, 0.25)).toEqual({ lift: 4, capture: 1, precision: 1 });
  });

  it('when only one class is present, then rocAuc throws a RangeError saying so', () => {
    expect(() => rocAuc(Uint8Array.from([1, 1]), Float64Array.from([0.2, 0.4]))).toThrow(/only one class/);
  });

  it('when labels and scores differ in length, then a RangeError names both lengths', () => {
    expect(() => brierScore(Uint8Array.from([1]), Float64Array.from([0.2, 0.4]))).toThrow(/length 1.*length 2/);
  });

  it('when a curve has more points than maxPoints, then it is downsampled keeping both ends', () => {
    const { y, p } = formulaVectors();
    const roc = rocCurve(y, p, 10);
    expect(roc.fpr).toHaveLength(10);
    expect([roc.fpr[0], roc.tpr[0], roc.fpr[9], roc.tpr[9]]).toEqual([0, 0, 1, 1]);
  });
});

describe('metrics agree with scikit-learn on fixed vectors', () => {
  const cases = { small: { y: SMALL_Y, p: SMALL_P }, formula: formulaVectors() };
  for (const name of ['small', 'formula'] as const) {
    it(`when scoring the ${name} vectors, then every metric matches scikit-learn`, () => {
      const { y, p } = cases[name];
      const e = SKLEARN[name];
      const ev = evaluateBinary(y, p, 0.5);
      expect(ev.rocAuc).toBeCloseTo(e.roc_auc, 12);
      expect(ev.averagePrecision).toBeCloseTo(e.average_precision, 12);
      expect({ tp: ev.tp, fp: ev.fp, tn: ev.tn, fn: ev.fn }).toEqual({ tp: e.tp, fp: e.fp, tn: e.tn, fn: e.fn });
      expect(ev.precision).toBeCloseTo(e.precision, 12);
      expect(ev.recall).toBeCloseTo(e.recall, 12);
      expect(ev.f1).toBeCloseTo(e.f1, 12);
      expect(ev.brier).toBeCloseTo(e.brier, 12);
      expect(ev.logLoss).toBeCloseTo(e.log_loss, 12);
      const roc = rocCurve(y, p, 10_000);
      expect(roc.fpr).toHaveLength(e.roc_points);
      expect(sum(roc.fpr) + sum(roc.tpr)).toBeCloseTo(e.roc_fpr_tpr_sum, 10);
      const pr = prCurve(y, p, 10_000);
      expect(pr.precision).toHaveLength(e.pr_points);
      expect(sum(pr.precision)).toBeCloseTo(e.pr_precision_sum, 10);
      expect(sum(pr.recall)).toBeCloseTo(e.pr_recall_sum, 10);
    });
  }

  it('when evaluating, then the result survives a JSON round trip unchanged', () => {
    const ev = evaluateBinary(SMALL_Y, SMALL_P, 0.5);
    expect(JSON.parse(JSON.stringify(ev))).toEqual(ev);
  });
});
