import { describe, expect, it } from 'vitest';
import { validatePolicy } from '../../../workflows/model-monitor';

describe('monitor policy validator', () => {
  it('when a patch is valid, then it passes', () => {
    expect(() => validatePolicy({ intervalSeconds: 60, newDataRatio: 0.1, f1Drop: 0.05, minOutcomes: 100, driftShare: 0.2, paused: true })).not.toThrow();
  });

  it.each([
    [{ intervalSeconds: 0 }, /intervalSeconds=0/],
    [{ intervalSeconds: 1.5 }, /intervalSeconds/],
    [{ f1Drop: 1 }, /f1Drop=1/],
    [{ driftShare: 0 }, /driftShare/],
    [{ minOutcomes: -1 }, /minOutcomes/],
    [{ paused: 'yes' as never }, /paused/],
    [{ interval: 5 } as never, /unknown policy field interval/],
  ])('when the patch is %j, then it is rejected naming the field', (patch, re) => {
    expect(() => validatePolicy(patch)).toThrow(re);
  });
});
