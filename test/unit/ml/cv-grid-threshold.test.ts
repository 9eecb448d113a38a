import { describe, expect, it } from 'vitest';
import { makeSyntheticData } from '../../../testkit/synthetic';
import { foldIndices, stratifiedKFold } from '../../../ml/cv';
import { cellKey, expandGrid, paramsToOptions, runCvCell, summariseCells } from '../../../ml/grid';
import { confusionAt, precisionRecallF1 } from '../../../ml/metrics';
import { chooseThreshold } from '../../../ml/threshold';
import { mulberry32 } from '../../../ml/rng';

describe('stratifiedKFold', () => {
  const y = new Uint8Array(1003).map((_, i) => (i % 7 === 0 ? 1 : 0)); // 144 positives, 859 negatives

  it('when splitting into 3 folds, then each fold holds floor or ceil of each class count / 3', () => {
    const folds = stratifiedKFold(y, 3, 1);
    for (let f = 0; f < 3; f++) {
      let pos = 0;
      let neg = 0;
      folds.forEach((v, i) => {
        if (v === f && y[i]) pos++;
        else if (v === f) neg++;
      });
      expect([48]).toContain(pos); // 144 / 3 exactly
      expect([286, 287]).toContain(neg); // 859 / 3 = 286.33
    }
  });

  it('when called twice with one seed, then folds are identical; with another seed, they differ', () => {
    expect(Array.from(stratifiedKFold(y, 3, 5))).toEqual(Array.from(stratifiedKFold(y, 3, 5)));
    expect(Array.from(stratifiedKFold(y, 3, 5))).not.toEqual(Array.from(stratifiedKFold(y, 3, 6)));
  });

  it('when a class has fewer rows than folds, then a RangeError names the class', () => {
    expect(() => stratifiedKFold(Uint8Array.from([0, 0, 0, 1, 1]), 3)).toThrow(/class 1 has 2 rows/);
  });

  it('when taking a fold, then train and test partition all rows', () => {
    const { train, test } = foldIndices(stratifiedKFold(y, 3), 2);
    expect(train.length + test.length).toBe(y.length);
    expect(new Set([...train, ...test]).size).toBe(y.length);
  });
});

describe('expandGrid and cellKey', () => {
  it('when expanding, then keys are sorted and the last key varies fastest', () => {
    const cells = expandGrid({ nEstimators: [100, 200], maxDepth: [5, 10, null] });
    expect(cells).toEqual([
      { maxDepth: 5, nEstimators: 100 }, { maxDepth: 5, nEstimators: 200 },
      { maxDepth: 10, nEstimators: 100 }, { maxDepth: 10, nEstimators: 200 },
      { maxDepth: null, nEstimators: 100 }, { maxDepth: null, nEstimators: 200 },
    ]);
  });

  it('when the same params are written in another key order, then the cell key is the same', () => {
    expect(cellKey({ b: 'x', a: null })).toBe(cellKey({ a: null, b: 'x' }));
    expect(cellKey({ a: 1, b: 'x' })).toBe('a=1|b="x"');
  });

  it('when a grid value list is empty, then a RangeError names the key', () => {
    expect(() => expandGrid({ maxDepth: [] })).toThrow(/"maxDepth"/);
  });

  it('when a cell names an unknown option, then paramsToOptions throws naming it', () => {
    expect(() => paramsToOptions({ max_depth: 3 })).toThrow(/max_depth/);
  });
});

describe('runCvCell and summariseCells', () => {
  it('when running every fold of two cells, then each row is scored once per cell and the summary ranks them', async () => {
    const { X, y } = makeSyntheticData(600, 6, 31);
    const folds = stratifiedKFold(y, 3, 42);
    const results = [];
    for (const params of expandGrid({ maxDepth: [1, 6], nEstimators: [10] })) {
      const seen = new Uint8Array(600);
      for (let f = 0; f < 3; f++) {
        const r = await runCvCell({ X, y, folds, foldIndex: f, params: { ...paramsToOptions(params), nThreads: 1 }, scoring: 'roc_auc' });
        r.testIndices.forEach((i) => seen[i]++);
        expect(r.score).toBe(r.metrics.roc_auc);
        results.push({ params, ...r });
      }
      expect(seen.every((v) => v === 1)).toBe(true);
    }
    const summary = summariseCells(results);
    expect(summary.map((s) => s.folds)).toEqual([3, 3]);
    // depth-1 stumps cannot express the interaction and the 5 other effects at once: depth 6 must rank first
    expect(summary[0].params.maxDepth).toBe(6);
    const scores = results.filter((r) => r.params.maxDepth === 6).map((r) => r.score);
    expect(summary[0].meanScore).toBeCloseTo(scores.reduce((a, b) => a + b) / 3, 12);
  }, 60_000);
});

describe('chooseThreshold', () => {
  const rng = mulberry32(77);
  const n = 500;
  const y = new Uint8Array(n);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.next() < 0.25 ? 1 : 0;
    // rounded to 2 decimals so there are many ties, as forest vote shares have
    p[i] = Math.round(Math.min(1, Math.max(0, 0.3 * y[i] + rng.next() * 0.7)) * 100) / 100;
  }

  it('when targeting recall 0.9, then the choice reaches it and no other threshold does so with higher precision', () => {
    const c = chooseThreshold(y, p, 0.9);
    expect(c.reachable).toBe(true);
    expect(c.recall).toBeGreaterThanOrEqual(0.9);
    // brute force over every distinct score
    let bestPrecision = 0;
    for (const t of new Set(p)) {
      const m = precisionRecallF1(confusionAt(y, p, t));
      if (m.recall >= 0.9) bestPrecision = Math.max(bestPrecision, m.precision);
    }
    expect(c.precision).toBe(bestPrecision);
    const atHalf = precisionRecallF1(confusionAt(y, p, 0.5)).precision;
    expect(c.precisionAtDefault).toBe(atHalf);
    expect(c.precisionCost).toBeCloseTo(atHalf - c.precision, 15);
  });

  it('when the target is outside (0, 1], then a RangeError names it', () => {
    expect(() => chooseThreshold(y, p, 1.2)).toThrow(/targetRecall must be in \(0, 1\], got 1.2/);
  });
});
