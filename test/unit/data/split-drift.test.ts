import { describe, expect, it } from 'vitest';
import { holdoutHash, splitHoldout } from '../../../data/split';
import { driftReport, psi, referenceHistograms } from '../../../ml/drift';
import { seededRng } from '../../../ml/rng';

describe('splitHoldout', () => {
  const n = 1000;
  const firstOpen = Float64Array.from({ length: n }, (_, i) => (i * 7919) % n); // a permutation of 0..n-1
  const ids = Array.from({ length: n }, (_, i) => String(1_000_000 + i));

  it('when the strategy is time, then holdout is exactly the latest 20 %', () => {
    const { train, holdout } = splitHoldout({ ids, firstOpen, strategy: 'time', seed: 1 });
    expect(holdout.length).toBe(200);
    expect(Math.min(...Array.from(holdout, (i) => firstOpen[i]))).toBe(800);
    expect(train.length + holdout.length).toBe(n);
  });

  it('when the strategy is hash, then the same seed gives the same split and another seed another one', () => {
    const a = splitHoldout({ ids, firstOpen, strategy: 'hash', seed: 7 });
    const b = splitHoldout({ ids, firstOpen, strategy: 'hash', seed: 7 });
    const c = splitHoldout({ ids, firstOpen, strategy: 'hash', seed: 8 });
    expect(Array.from(a.holdout)).toEqual(Array.from(b.holdout));
    expect(Array.from(a.holdout)).not.toEqual(Array.from(c.holdout));
    expect(new Set([...a.train, ...a.holdout]).size).toBe(n);
    // Binomial(1000, 0.2): sd 12.6, so 200 ± 4 sd holds unless the hash is not uniform.
    expect(Math.abs(a.holdout.length - 200)).toBeLessThan(51);
  });

  it('when more users arrive, then every earlier user stays on its side (a holdout neither model trained on)', () => {
    const before = splitHoldout({ ids, firstOpen, strategy: 'hash', seed: 42 });
    const more = [...ids, ...Array.from({ length: 500 }, (_, i) => `new-${i}`)].reverse();
    const after = splitHoldout({ ids: more, firstOpen: new Float64Array(more.length), strategy: 'hash', seed: 42 });
    const heldAfter = new Set(Array.from(after.holdout, (i) => more[i]));
    const heldBefore = new Set(Array.from(before.holdout, (i) => ids[i]));
    for (const id of ids) expect(heldAfter.has(id)).toBe(heldBefore.has(id));
  });

  it('when a million hashes are drawn, then each decile holds 10 % within sampling noise', () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 1_000_000; i++) counts[Math.floor(holdoutHash(String(i), 42) * 10)]!++;
    // Binomial(1e6, 0.1): sd 300; 5 sd is 1,500.
    for (const c of counts) expect(Math.abs(c - 100_000)).toBeLessThan(1500);
  });

  it('when the fraction is out of range, then RangeError names it', () => {
    expect(() => splitHoldout({ ids, firstOpen, strategy: 'time', holdoutFraction: 1, seed: 1 })).toThrow(/holdoutFraction.*1/);
  });
});

describe('psi', () => {
  const rng = seededRng(3);
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
