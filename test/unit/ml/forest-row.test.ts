import { beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticData, type SyntheticData } from '../../../testkit/synthetic';
import { fitRandomForest, type RandomForest } from '../../../ml/forest';
import { packForRows, predictRowPacked } from '../../../ml/forest-row';

// predictProbaRow walks trees four at a time on its own node layout; predictProba walks rows four
// at a time on the flat arrays. Both must sum the same leaves in the same tree order.
describe('predictProbaRow on its single-row layouts', () => {
  let data: SyntheticData;
  let forests: RandomForest[];

  beforeAll(async () => {
    data = makeSyntheticData(2000, 8, 5);
    const train = makeSyntheticData(1500, 8, 6);
    // 7 trees: one group of four plus a remainder of three; no depth limit and small leaves, so the
    // trees of a group have different depths (shallower ones must rest on their self-looping leaf)
    forests = await Promise.all([
      fitRandomForest(train.X, train.y, { nEstimators: 7, minSamplesLeaf: 1, seed: 3, nThreads: 1 }),
      fitRandomForest(train.X, train.y, { nEstimators: 3, maxDepth: 4, seed: 4, nThreads: 1 }),
      fitRandomForest(train.X, train.y, { nEstimators: 8, maxDepth: 6, seed: 5, nThreads: 1 }),
    ]);
  }, 60_000);

  it('when the trees of a group differ in depth, then the test setup really has such a group', () => {
    const d = forests[0]!.flat.depths;
    expect(Math.min(d[0]!, d[1]!, d[2]!, d[3]!)).toBeLessThan(Math.max(d[0]!, d[1]!, d[2]!, d[3]!));
  });

  it('when every row is scored alone, then it equals the batch prediction bit for bit (7, 3 and 8 trees)', () => {
    const { data: X, rows, cols } = data.X;
    for (const forest of forests) {
      const batch = forest.predictProba(data.X);
      let mismatches = 0;
      for (let r = 0; r < rows; r++) if (forest.predictProbaRow(X.subarray(r * cols, (r + 1) * cols)) !== batch[r]) mismatches++;
      expect(mismatches).toBe(0);
    }
  });

  it('when every row is scored on the interleaved fallback layout, then it equals the batch prediction bit for bit', () => {
    const { data: X, rows, cols } = data.X;
    for (const forest of forests) {
      const packed = packForRows(forest.flat, forest.flat.feature.map((f) => (f < 0 ? 0 : f)));
      const batch = forest.predictProba(data.X);
      let mismatches = 0;
      for (let r = 0; r < rows; r++) if (predictRowPacked(packed, forest.flat, X.subarray(r * cols, (r + 1) * cols)) !== batch[r]) mismatches++;
      expect(mismatches).toBe(0);
    }
  });

  it('when a value equals a split threshold or is one ulp either side, then ranks branch as the doubles do', () => {
    // the rank argument is exact only if ties go the way of `x > threshold`; random rows almost
    // never hit a threshold exactly, so these rows are made to
    const forest = forests[0]!;
    const { feature, threshold } = forest.flat;
    const cols = data.X.cols;
    const rows: number[] = [];
    for (let i = 0; i < feature.length && rows.length < 600 * cols; i++) {
      if (feature[i]! < 0) continue;
      const t = threshold[i]!;
      for (const v of [t, t + Math.abs(t) * Number.EPSILON || Number.MIN_VALUE, t - Math.abs(t) * Number.EPSILON || -Number.MIN_VALUE]) {
        const base = Array.from(data.X.data.subarray((i % 100) * cols, (i % 100 + 1) * cols));
        base[feature[i]!] = v;
        rows.push(...base);
      }
    }
    const X = { data: Float64Array.from(rows), rows: rows.length / cols, cols };
    const batch = forest.predictProba(X);
    let mismatches = 0;
    for (let r = 0; r < X.rows; r++) if (forest.predictProbaRow(X.data.subarray(r * cols, (r + 1) * cols)) !== batch[r]) mismatches++;
    expect(forest.rowLayout).toBe('ranked');
    expect(mismatches).toBe(0);
  });

  it('when the row is a plain array, then the result is the same as for a typed array', () => {
    const row = data.X.data.subarray(0, data.X.cols);
    expect(forests[0]!.predictProbaRow(Array.from(row))).toBe(forests[0]!.predictProbaRow(row));
  });

  it('when the row has the wrong length, then a RangeError names both lengths', () => {
    expect(() => forests[0]!.predictProbaRow(new Float64Array(3))).toThrow(/row has 3 values, the model expects 8/);
  });
});
