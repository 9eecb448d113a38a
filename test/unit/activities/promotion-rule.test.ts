import { describe, expect, it } from 'vitest';
import { decidePromotion, eligibility } from '../../../activities/promotion';
import type { PromotionPolicy } from '../../../common/workflow-types';

const policy = (over: Partial<PromotionPolicy> = {}): PromotionPolicy => ({
  rule: 'non-inferior', margin: 0.02, aucMargin: 0.01, minAuc: 0.6, minUsers: 200, minPositives: 30, resamples: 1000, ...over,
});
const cmp = (p: [number, number], a: [number, number] = [-0.002, 0.004], n = 2000, positives = 400) => ({ n, positives, interval: { precisionAtRecall: p, rocAuc: a } });

describe('decidePromotion', () => {
  it('when the candidate is not measurably different and saw newer data, then non-inferior promotes and better does not', () => {
    // The old rule (recall ≥ production's recall at two thresholds aiming at the same 0.9) failed
    // an equally good candidate about half the time; an interval straddling 0 is "no difference".
    expect(decidePromotion(cmp([-0.012, 0.01]), policy(), true).verdict).toBe('promoted');
    expect(decidePromotion(cmp([-0.012, 0.01]), policy({ rule: 'better' }), true).verdict).toBe('rejected');
  });

  it('when the same data was retrained (no newer data), then non-inferior keeps production', () => {
    const d = decidePromotion(cmp([-0.005, 0.005]), policy(), false);
    expect(d.verdict).toBe('rejected');
    expect(d.why).toMatch(/no newer data/);
  });

  it('when the interval reaches below −margin, then the candidate is inferior and rejected even on newer data', () => {
    const d = decidePromotion(cmp([-0.03, 0.002]), policy(), true);
    expect(d.verdict).toBe('rejected');
    expect(d.why).toMatch(/inferior/);
  });

  it('when the interval lies above zero, then better promotes', () => {
    expect(decidePromotion(cmp([0.004, 0.03]), policy({ rule: 'better' }), false).verdict).toBe('promoted');
  });

  it('when precision improves but ROC AUC may have fallen by more than its margin, then either rule rejects', () => {
    for (const rule of ['better', 'non-inferior'] as const) {
      const d = decidePromotion(cmp([0.004, 0.03], [-0.02, 0.001]), policy({ rule }), true);
      expect(d.verdict).toBe('rejected');
      expect(d.why).toMatch(/ROC AUC/);
    }
  });

  it('when fewer users or buyers than the minimum are unseen by both models, then there is not enough evidence', () => {
    expect(decidePromotion(cmp([0.01, 0.05], undefined, 150, 40), policy(), true).verdict).toBe('insufficient-evidence');
    expect(decidePromotion(cmp([0.01, 0.05], undefined, 2000, 20), policy(), true).verdict).toBe('insufficient-evidence');
  });
});

describe('eligibility', () => {
  it('counts matured buyers and non-buyers from the snapshot and names each class that falls short', () => {
    const p = policy({ eligibleMinPositives: 150, eligibleMinNegatives: 150 });
    expect(eligibility({ rows: 1000, labelRate: 0.2 }, p)).toEqual({ positives: 200, negatives: 800, why: null });
    expect(eligibility({ rows: 1000, labelRate: 0.1 }, p).why).toBe('not eligible: the snapshot has 100 matured buyers (needs 150)');
    expect(eligibility({ rows: 160, labelRate: 0.5 }, p).why).toBe('not eligible: the snapshot has 80 matured buyers (needs 150) and 80 matured non-buyers (needs 150)');
  });

  it('settings recorded before the rule existed (no minimums) are never held back by it', () => {
    expect(eligibility({ rows: 10, labelRate: 0.1 }, policy()).why).toBeNull();
  });
});
