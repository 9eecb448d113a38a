import { describe, expect, it } from 'vitest';
import { makeSyntheticData } from '../../../testkit/synthetic';
import { fitRandomForest, fitTreeRange, forestFromTrees, shardRange, treesFromArrays, treesToArrays, type RandomForest } from '../../../ml/forest';
import { CorruptArtifactError } from '../../../common/errors';
import { refitShardCount } from '../../../common/shards';

const { X, y } = makeSyntheticData(3000, 10, 5);
const options = { nEstimators: 23, maxDepth: 8, seed: 9, classWeight: 'balanced' as const, nThreads: 1 };

function expectSameForest(a: RandomForest, b: RandomForest): void {
  for (const k of Object.keys(a.flat) as (keyof RandomForest['flat'])[]) expect(Array.from(b.flat[k]), k).toEqual(Array.from(a.flat[k]));
}

describe('tree shards', () => {
  it('when shard ranges are asked for, then they cover every tree once, in order, sizes within one', () => {
    for (const [n, count] of [[23, 3], [200, 7], [5, 5], [2, 4]] as const) {
      const ranges = Array.from({ length: count }, (_, i) => shardRange(n, i, count));
      expect(ranges[0]!.from).toBe(0);
      expect(ranges.at(-1)!.to).toBe(n);
      ranges.slice(1).forEach((r, i) => expect(r.from).toBe(ranges[i]!.to));
      const sizes = ranges.map((r) => r.to - r.from);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(() => shardRange(10, 3, 3)).toThrow(/shard index must be in \[0, 3\), got 3/);
    expect(() => shardRange(10, 0, 0)).toThrow(/shard count must be a positive integer, got 0/);
  });

  // The naive merge (average the shards' normalised importances, or refit each shard with its own
  // seed or quantisation) gives a different forest; only the same trees in the same order,
  // flattened once, give the unsharded fit's arrays bit for bit.
  it('when a forest is grown as 3 shards (one on 2 threads) and merged through their stored arrays, then it is bit-identical to the unsharded fit', async () => {
    const whole = await fitRandomForest(X, y, options);
    const shards = await Promise.all([0, 1, 2].map((i) => fitTreeRange(X, y, { ...options, nThreads: i === 1 ? 2 : 1 }, shardRange(options.nEstimators, i, 3))));
    const stored = shards.map((trees) => treesFromArrays(treesToArrays(trees, X.cols), X.cols));
    const merged = forestFromTrees(options, X.cols, stored.flat());
    expectSameForest(whole, merged);
    expect(Array.from(merged.predictProba(X))).toEqual(Array.from(whole.predictProba(X)));
  });

  it('when the shards do not make the whole forest, then merging names the counts', async () => {
    const part = await fitTreeRange(X, y, options, { from: 0, to: 10 });
    expect(() => forestFromTrees(options, X.cols, part)).toThrow('a forest of 23 trees cannot be built from 10');
    await expect(fitTreeRange(X, y, options, { from: 20, to: 24 })).rejects.toThrow('tree range [20, 24) is not inside [0, 23)');
  });

  it('when a stored shard is damaged, then reading it fails with CorruptArtifactError, not a wrong forest', async () => {
    const arrays = treesToArrays(await fitTreeRange(X, y, options, { from: 0, to: 3 }), X.cols);
    expect(() => treesFromArrays({ ...arrays, value: arrays.value.slice(1) }, X.cols)).toThrow(CorruptArtifactError);
    const { treeImportances: _t, ...without } = arrays;
    expect(() => treesFromArrays(without, X.cols)).toThrow(/lacks one of its arrays/);
    const roots = Int32Array.from(arrays.roots as Int32Array);
    roots[1] = roots[2]!;
    expect(() => treesFromArrays({ ...arrays, roots }, X.cols)).toThrow(/tree 1 spans nodes/);
  });

  it('when the refit is small, of the reference engine, or of a run recorded before shards, then it is not sharded', () => {
    const auto = { refitShards: 0, refitShardMinRows: 100_000, engine: 'retail24' as const };
    expect(refitShardCount(auto, 200_000, 3, 200)).toBe(3); // one per worker seen in the grid
    expect(refitShardCount(auto, 99_999, 3, 200)).toBe(1);
    expect(refitShardCount({ ...auto, engine: 'ml-random-forest' }, 200_000, 3, 200)).toBe(1);
    expect(refitShardCount({ engine: 'retail24' }, 200_000, 3, 200)).toBe(1);
    expect(refitShardCount({ ...auto, refitShards: 8 }, 200_000, 1, 5)).toBe(5); // never more shards than trees
    expect(refitShardCount({ ...auto, refitShards: 0 }, 200_000, 0, 200)).toBe(1);
  });
});
