import { describe, expect, it } from 'vitest';
import { chooseCell, type CellSummary } from '../../../ml/grid';

const cell = (params: CellSummary['params'], mean: number, std: number, folds = 3): CellSummary => ({
  key: JSON.stringify(params), params, folds, meanScore: mean, stdScore: std, meanFitMs: 1, rank: 0,
  meanMetrics: { precision_at_target_recall: mean, recall: 0, precision: 0, f1: 0, roc_auc: 0, average_precision: 0 },
});

describe('chooseCell (one-standard-error rule)', () => {
  it('when a simpler cell is within one standard error of the best, then the simpler one is chosen and the rule says why', () => {
    // best 0.300 ± SE: population sd 0.01 over 3 folds → sample sd 0.01225, SE 0.00707 → cutoff 0.2929
    const best = cell({ maxDepth: null, minSamplesLeaf: 1, nEstimators: 100 }, 0.300, 0.01);
    const simpler = cell({ maxDepth: 12, minSamplesLeaf: 20, nEstimators: 100 }, 0.295, 0.01);
    const tooWeak = cell({ maxDepth: 8, minSamplesLeaf: 20, nEstimators: 100 }, 0.29, 0.01);
    const c = chooseCell([best, simpler, tooWeak]);
    expect(c.cutoff).toBeCloseTo(0.300 - (0.01 * Math.sqrt(3 / 2)) / Math.sqrt(3), 12);
    expect(c.chosen).toBe(simpler);
    expect(c.rule).toMatch(/one-standard-error rule/);
  });

  it('when no other cell is within one standard error, then the best mean wins', () => {
    const best = cell({ maxDepth: 12, minSamplesLeaf: 5 }, 0.31, 0.001);
    const c = chooseCell([best, cell({ maxDepth: 8, minSamplesLeaf: 5 }, 0.30, 0.001)]);
    expect(c.chosen).toBe(best);
    expect(c.rule).toMatch(/best mean CV score/);
  });

  it('when tied cells differ only in leaf size or trees, then larger leaves, then fewer trees count as simpler', () => {
    const a = cell({ maxDepth: 12, minSamplesLeaf: 1, nEstimators: 100 }, 0.3, 0.02);
    const b = cell({ maxDepth: 12, minSamplesLeaf: 20, nEstimators: 200 }, 0.3, 0.02);
    const d = cell({ maxDepth: 12, minSamplesLeaf: 20, nEstimators: 100 }, 0.299, 0.02);
    expect(chooseCell([a, b, d]).chosen).toBe(d);
  });
});
