import { describe, expect, it } from 'vitest';
import { splitHoldout } from '../../../data/split';
import { driftReport, psi, referenceHistograms } from '../../../ml/drift';
import { Rng } from '../../../data/random';

describe('splitHoldout', () => {
  const n = 1000;
  const firstOpen = Float64Array.from({ length: n }, (_, i) => (i * 7919) % n); // a permutation of 0..n-1
  const y = Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1 : 0));

  it('when the strategy is time, then holdout is exactly the latest 20 %', () => {
    const { train, holdout } = splitHoldout({ firstOpen, y, strategy: 'time', seed: 1 });
    expect(holdout.length).toBe(200);
    expect(Math.min(...Array.from(holdout, (i) => firstOpen[i]))).toBe(800);
    expect(train.length + holdout.length).toBe(n);
  });

  it('when stratified, then both sides keep the class ratio and the same seed gives the same split', () => {
    const a = splitHoldout({ firstOpen, y, strategy: 'stratified', seed: 7 });
    const b = splitHoldout({ firstOpen, y, strategy: 'stratified', seed: 7 });
    const c = splitHoldout({ firstOpen, y, strategy: 'stratified', seed: 8 });
    expect(Array.from(a.holdout)).toEqual(Array.from(b.holdout));
    expect(Array.from(a.holdout)).not.toEqual(Array.from(c.holdout));
    expect(Array.from(a.holdout).filter((i) => y[i]).length).toBe(40); // 20 % of the 200 positives
    expect(new Set([...a.train, ...a.holdout]).size).toBe(n);
  });

  it('when the fraction is out of range, then RangeError names it', () => {
    expect(() => splitHoldout({ firstOpen, y, strategy: 'time', holdoutFraction: 1, seed: 1 })).toThrow(/holdoutFraction.*1/);
  });
});

describe('psi', () => {
  const rng = new Rng(3);
  const sample = (shift: number, m: number) => Float64Array.from({ length: m }, () => rng.normal() + shift);

  it('when current data come from the reference distribution, then PSI is below the warning level', () => {
    const [ref] = referenceHistograms(['x'], sample(0, 5000), 5000);
    // Expected PSI of two samples of one distribution is about (bins - 1) * (1/n1 + 1/n2) ≈ 0.004.
    expect(psi(ref, sample(0, 5000)).psi).toBeLessThan(0.1);
  });

  it('when the mean shifts by one standard deviation, then the report says drift', () => {
    const X = sample(0, 4000);
    const refs = referenceHistograms(['x'], X, 4000);
    // A 1-sd shift gives PSI ≈ 1 for normals (≈ d² for small shifts), far above 0.25.
    expect(driftReport(refs, sample(1, 4000), 4000, ['x'])[0].level).toBe('drift');
  });

  it('when a binary feature is histogrammed, then tied quantiles collapse to two bins and empty bins stay finite', () => {
    const X = Float64Array.from({ length: 100 }, (_, i) => (i < 70 ? 0 : 1));
    const [ref] = referenceHistograms(['b'], X, 100);
    expect(ref.edges).toEqual([0, 1]);
    expect(ref.proportions).toEqual([0.7, 0.3, 0]);
    expect(Number.isFinite(psi(ref, [2, 2, 2]).psi)).toBe(true);
  });
});
