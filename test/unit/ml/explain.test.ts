import { beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticData, type SyntheticData } from '../../../testkit/synthetic';
import { EXPLAIN_METHODS, explainBatch, explainRow, meanAbsContributions, topContributions } from '../../../ml/explain';
import { fitRandomForest, RandomForest, resolveForestOptions, type FlatForest } from '../../../ml/forest';
import type { Matrix } from '../../../ml/matrix';
import { deserializeModel, serializeModel } from '../../../ml/serialize';

// Additivity is exact in real arithmetic for both methods; in doubles the sums over a few hundred
// nodes and trees of values in [0, 1] drift by ~1e-15, so 1e-9 (the bound) has wide margin.
const EXACT = 1e-9;

const rowOf = (X: Matrix, r: number): Float64Array => X.data.subarray(r * X.cols, (r + 1) * X.cols);
const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);

/** Exact Shapley values of the forest by enumerating all 2^M feature subsets (M <= 6 here). */
function bruteForceShap(flat: FlatForest, row: ArrayLike<number>, M: number): { phi: Float64Array; empty: number } {
  const { feature: F, threshold: T, left: L, value: V, cover: C, roots } = flat;
  // the path-dependent conditional expectation: a feature outside S follows both children, weighted by cover
  const expValue = (node: number, S: number): number => {
    if (F[node] < 0) return V[node];
    const l = L[node];
    if (S & (1 << F[node])) return expValue(l + +(row[F[node]] > T[node]), S);
    return (C[l] / C[node]) * expValue(l, S) + (C[l + 1] / C[node]) * expValue(l + 1, S);
  };
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const f = new Float64Array(1 << M);
  for (let S = 0; S < 1 << M; S++) for (let t = 0; t < roots.length; t++) f[S] += expValue(roots[t], S) / roots.length;
  const phi = new Float64Array(M);
  for (let i = 0; i < M; i++) {
    for (let S = 0; S < 1 << M; S++) {
      if (S & (1 << i)) continue;
      let size = 0;
      for (let j = 0; j < M; j++) size += (S >> j) & 1;
      phi[i] += ((fact(size) * fact(M - size - 1)) / fact(M)) * (f[S | (1 << i)] - f[S]);
    }
  }
  return { phi, empty: f[0] };
}

/** Rebuild an envelope with its array list edited (offsets recomputed), as an older or damaged writer would have. */
function rewriteEnvelope(buf: Buffer, edit: (arrays: Map<string, { type: string; bytes: Buffer; length: number }>) => void): Buffer {
  const headerLength = buf.readUInt32LE(4);
  const header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength)) as { arrays: { name: string; type: string; offset: number; length: number }[] };
  const dataStart = Math.ceil((8 + headerLength) / 8) * 8;
  const size = { f64: 8, i32: 4, u8: 1 } as Record<string, number>;
  const arrays = new Map(header.arrays.map((e) => [e.name, { type: e.type, length: e.length, bytes: Buffer.from(buf.subarray(dataStart + e.offset, dataStart + e.offset + e.length * size[e.type]!)) }]));
  edit(arrays);
  let offset = 0;
  header.arrays = [...arrays].map(([name, a]) => {
    const entry = { name, type: a.type, offset, length: a.length };
    offset += Math.ceil(a.bytes.length / 8) * 8;
    return entry;
  });
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const start = Math.ceil((8 + json.length) / 8) * 8;
  const out = Buffer.alloc(start + offset);
  out.write('R24M', 0, 'latin1');
  out.writeUInt32LE(json.length, 4);
  json.copy(out, 8);
  header.arrays.forEach((e) => arrays.get(e.name)!.bytes.copy(out, start + e.offset));
  return out;
}

describe('explanations of fitted forests', () => {
  let data: SyntheticData;
  let deep: RandomForest;
  let balanced: RandomForest;

  beforeAll(async () => {
    data = makeSyntheticData(1500, 8, 31);
    // unlimited depth (features repeat along paths) and balanced weights (non-integer covers)
    deep = await fitRandomForest(data.X, data.y, { nEstimators: 25, seed: 7, nThreads: 1 });
    balanced = await fitRandomForest(data.X, data.y, { nEstimators: 25, maxDepth: 8, classWeight: 'balanced', minSamplesLeaf: 3, seed: 8, nThreads: 1 });
  }, 60_000);

  for (const method of Object.values(EXPLAIN_METHODS)) {
    it(`when rows are explained with ${method}, then expected value plus contributions equals predictProbaRow to 1e-9`, () => {
      for (const forest of [deep, balanced]) {
        let worst = 0;
        for (let r = 0; r < 300; r++) {
          const row = rowOf(data.X, r);
          const e = explainRow(forest, row, { method });
          expect(e.method).toBe(method);
          worst = Math.max(worst, Math.abs(e.expectedValue + sum(e.contributions) - forest.predictProbaRow(row)));
        }
        expect(worst).toBeLessThan(EXACT);
      }
    });
  }

  it('when fitted without class weights, then each root covers the bootstrap draws and every split covers its two children', () => {
    const { feature, left, cover, roots } = deep.flat;
    for (const root of roots) expect(cover[root]).toBe(data.X.rows);
    for (let i = 0; i < feature.length; i++) if (feature[i] >= 0) expect(cover[left[i]]! + cover[left[i]! + 1]!).toBe(cover[i]);
  });

  it('when a forest has covers, then TreeSHAP is the default and its expected value is the mean root value', () => {
    const e = explainRow(balanced, rowOf(data.X, 0));
    expect(e.method).toBe(EXPLAIN_METHODS.treeShap);
    const meanRoot = sum(Array.from(balanced.flat.roots, (r) => balanced.flat.value[r]!)) / balanced.nTrees;
    expect(Math.abs(e.expectedValue - meanRoot)).toBeLessThan(EXACT);
  });

  it('when a batch is explained, then each row equals explainRow and the mean |contribution| is their average', () => {
    const X: Matrix = { data: data.X.data.subarray(0, 50 * 8), rows: 50, cols: 8 };
    const batch = explainBatch(deep, X);
    const meanAbs = new Float64Array(8);
    for (let r = 0; r < 50; r++) {
      const one = explainRow(deep, rowOf(X, r));
      expect(Array.from(batch.contributions.subarray(r * 8, r * 8 + 8))).toEqual(Array.from(one.contributions));
      for (let f = 0; f < 8; f++) meanAbs[f] += Math.abs(one.contributions[f]!) / 50;
    }
    const global = meanAbsContributions(deep, X);
    for (let f = 0; f < 8; f++) expect(global.meanAbs[f]).toBeCloseTo(meanAbs[f]!, 14);
  });

  it('when fitted on 2 threads, then the covers transferred back equal the in-process ones', async () => {
    const small = makeSyntheticData(400, 6, 33);
    const one = await fitRandomForest(small.X, small.y, { nEstimators: 4, seed: 2, nThreads: 1 });
    const two = await fitRandomForest(small.X, small.y, { nEstimators: 4, seed: 2, nThreads: 2 });
    expect(Buffer.from(two.flat.cover.buffer).equals(Buffer.from(one.flat.cover.buffer))).toBe(true);
  });

  it('when the row length or an option is wrong, then explaining throws a RangeError naming it', () => {
    expect(() => explainRow(deep, new Float64Array(7))).toThrow(/row has 7 values, the model expects 8/);
    expect(() => explainRow(deep, rowOf(data.X, 0), { method: 'lime' as never })).toThrow(/method must be/);
    expect(() => explainRow(deep, rowOf(data.X, 0), { methd: 'saabas' } as never)).toThrow(/unknown explain option "methd"/);
  });
});

describe('TreeSHAP against brute-force Shapley values', () => {
  let data: SyntheticData;
  let forest: RandomForest;

  beforeAll(async () => {
    data = makeSyntheticData(600, 6, 41);
    // all 6 features searched per split and depth 6: paths split on the same feature more than once
    forest = await fitRandomForest(data.X, data.y, { nEstimators: 6, maxDepth: 6, maxFeatures: 6, seed: 9, nThreads: 1 });
  });

  it('when some path splits twice on one feature, then the test exercises UNWIND', () => {
    const { feature: F, left: L, roots } = forest.flat;
    const repeats = (node: number, seen: number): boolean =>
      F[node]! >= 0 && ((seen & (1 << F[node]!)) !== 0 || repeats(L[node]!, seen | (1 << F[node]!)) || repeats(L[node]! + 1, seen | (1 << F[node]!)));
    expect(Array.from(roots).some((r) => repeats(r, 0))).toBe(true);
  });

  it('when rows are explained, then every contribution and the expected value equal the subset enumeration to 1e-9', () => {
    for (let r = 0; r < 30; r++) {
      const row = rowOf(data.X, r);
      const e = explainRow(forest, row);
      const exact = bruteForceShap(forest.flat, row, 6);
      expect(Math.abs(e.expectedValue - exact.empty)).toBeLessThan(EXACT);
      for (let f = 0; f < 6; f++) expect(Math.abs(e.contributions[f]! - exact.phi[f]!), `row ${r} feature ${f}`).toBeLessThan(EXACT);
    }
  });
});

describe('symmetry and dummy features', () => {
  // AND of x0 > 0.5 and x1 > 0.5 on four equally covered leaves; feature 2 is never split on
  const flat: FlatForest = {
    feature: Int32Array.of(0, 1, 1, -1, -1, -1, -1),
    threshold: Float64Array.of(0.5, 0.5, 0.5, Infinity, Infinity, Infinity, Infinity),
    left: Int32Array.of(1, 3, 5, 3, 4, 5, 6),
    value: Float64Array.of(0.25, 0, 0.5, 0, 0, 0, 1),
    cover: Float64Array.of(4, 2, 2, 1, 1, 1, 1),
    roots: Int32Array.of(0), depths: Int32Array.of(2), importances: Float64Array.of(0.5, 0.5, 0),
  };
  const and = new RandomForest(resolveForestOptions({ nEstimators: 1, nThreads: 1 }), 3, flat);

  it('when two features play symmetric roles, then TreeSHAP gives them equal shares (3/8 each for AND at (1, 1)) and the unused one 0', () => {
    const e = explainRow(and, [1, 1, 7]);
    // f(∅) = 1/4, f({0}) = f({1}) = 1/2, f({0, 1}) = 1: phi = ((1/2 - 1/4) + (1 - 1/2)) / 2 = 3/8
    expect(e.expectedValue).toBe(0.25);
    expect(Array.from(e.contributions)).toEqual([0.375, 0.375, 0]);
  });

  it('when explained with Saabas, then the credit follows the path order (root split 1/4, second split 1/2)', () => {
    const e = explainRow(and, [1, 1, 7], { method: EXPLAIN_METHODS.saabas });
    expect(Array.from(e.contributions)).toEqual([0.25, 0.5, 0]);
  });

  it('when a column is constant, then no tree splits on it and both methods give it exactly 0', async () => {
    const d = makeSyntheticData(800, 7, 51);
    for (let r = 0; r < d.X.rows; r++) d.X.data[r * 7 + 6] = 3;
    const forest = await fitRandomForest(d.X, d.y, { nEstimators: 10, seed: 4, nThreads: 1 });
    expect(forest.flat.feature.includes(6)).toBe(false);
    for (const method of Object.values(EXPLAIN_METHODS)) {
      for (let r = 0; r < 100; r++) expect(explainRow(forest, rowOf(d.X, r), { method }).contributions[6]).toBe(0);
    }
  });

  it('when the top contributions are asked for, then they come by |contribution| with signs, ties by index, zeros left out', () => {
    expect(topContributions([0.1, -0.3, 0, 0.3, -0.05], 3)).toEqual([
      { feature: 1, contribution: -0.3 }, { feature: 3, contribution: 0.3 }, { feature: 0, contribution: 0.1 },
    ]);
    expect(topContributions([0, 0.2, 0], 5)).toEqual([{ feature: 1, contribution: 0.2 }]);
    expect(() => topContributions([1], -1)).toThrow(RangeError);
  });
});

describe('covers in the model envelope', () => {
  const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];
  const data = makeSyntheticData(500, 6, 61);
  let forest: RandomForest;

  beforeAll(async () => {
    forest = await fitRandomForest(data.X, data.y, { nEstimators: 12, seed: 3, nThreads: 1 });
  });

  it('when saved and loaded, then the covers and the TreeSHAP explanations are bit-identical', () => {
    const raw = deserializeModel(serializeModel(forest, { featureNames: NAMES, featureSpec: null })).raw as RandomForest;
    expect(Buffer.from(raw.flat.cover.buffer).equals(Buffer.from(forest.flat.cover.buffer))).toBe(true);
    const row = rowOf(data.X, 5);
    const e = explainRow(raw, row);
    expect(e.method).toBe(EXPLAIN_METHODS.treeShap);
    expect(Array.from(e.contributions)).toEqual(Array.from(explainRow(forest, row).contributions));
  });

  it('when an envelope has no cover (written before covers), then it loads, predicts bit-identically and explains with Saabas', () => {
    const old = rewriteEnvelope(serializeModel(forest, { featureNames: NAMES, featureSpec: null }), (a) => a.delete('cover'));
    expect(old.includes('"cover"')).toBe(false);
    const loaded = deserializeModel(old);
    const raw = loaded.raw as RandomForest;
    expect(raw.hasCover).toBe(false);
    expect(Buffer.from(loaded.model.predictProba(data.X).buffer).equals(Buffer.from(forest.predictProba(data.X).buffer))).toBe(true);
    const row = rowOf(data.X, 9);
    expect(loaded.model.predictProbaRow(row)).toBe(forest.predictProbaRow(row));
    const e = explainRow(raw, row);
    expect(e.method).toBe(EXPLAIN_METHODS.saabas);
    expect(Math.abs(e.expectedValue + sum(e.contributions) - raw.predictProbaRow(row))).toBeLessThan(EXACT);
    expect(() => explainRow(raw, row, { method: EXPLAIN_METHODS.treeShap })).toThrow(/needs per-node covers/);
    // saved again, it stays an envelope without cover
    expect(serializeModel(raw, { featureNames: NAMES, featureSpec: null }).includes('"cover"')).toBe(false);
  });

  it('when a stored cover is not positive, then loading throws instead of explaining with NaN', () => {
    const bad = rewriteEnvelope(serializeModel(forest, { featureNames: NAMES, featureSpec: null }), (a) => a.get('cover')!.bytes.writeDoubleLE(0, 8));
    expect(() => deserializeModel(bad)).toThrow(/corrupt retail24 forest/);
  });
});
