/**
 * retail24's Random Forest: histogram split search on uint8-quantised features, trees grown on
 * worker threads, stored as flat typed arrays and scored on raw rows (split thresholds are raw values).
 */
import type { CoreParams, TreeArrays } from './forest-core';
import { featuresPerSplit, resolveForestOptions, type ForestOptions } from './forest-options';
import { growTrees, predictSplit, type FitHooks } from './forest-pool';
import { predictBlocks, shareWalk, walkFeatures, type SharedWalk } from './forest-walk';
import { assertBinaryLabels, assertFinite, assertMatrix, assertRowIndex, type Matrix, type RowIndex } from './matrix';
import { quantize } from './quantize';
import { CorruptArtifactError } from '../common/errors';
import { buildRankLayout, packForRows, predictRowPacked, predictRowRanked, type FlatNodes, type PackedNodes, type RankLayout } from './forest-row';

export { DEFAULT_FOREST_OPTIONS, resolveForestOptions, type ForestOptions } from './forest-options';
export type { FitHooks } from './forest-pool';

/** The flat node arrays (ml/forest-row.ts) plus the impurity importances. */
export interface FlatForest extends FlatNodes {
  importances: Float64Array;
}

/** A fitted forest. Build with `fitRandomForest` or `deserializeModel`. */
export class RandomForest {
  readonly nFeatures: number;
  readonly options: ForestOptions;
  /** the flat arrays, exposed for serialisation */
  readonly flat: FlatForest;
  /** feature per node with leaves mapped to 0, so a walk reads a valid column at a leaf */
  private readonly walkFeature: Int32Array;
  /** the walk's arrays on shared memory, made on the first predictProbaAsync */
  private shared: SharedWalk | undefined;
  /** single-row layouts, built on the first predictProbaRow (models only used in batch never pay for them) */
  private ranked: RankLayout | null | undefined;
  private packed: PackedNodes | undefined;

  constructor(options: ForestOptions, nFeatures: number, flat: FlatForest) {
    this.options = options;
    this.nFeatures = nFeatures;
    this.flat = flat;
    this.walkFeature = walkFeatures(flat.feature);
  }

  /** Number of trees. */
  get nTrees(): number {
    return this.flat.roots.length;
  }

  /**
   * P(class 1) per row: mean over trees of the leaf's (weighted) class-1 frequency, as scikit-learn
   * (the walk is ml/forest-walk.ts, which a worker thread runs as well).
   */
  predictProba(X: Matrix): Float64Array {
    assertMatrix(X, this.nFeatures);
    return predictBlocks(this.flat, this.walkFeature, X.data, X.rows, X.cols);
  }

  /**
   * {@link predictProba} of a large batch split between this thread and a forest thread (rows
   * from PARALLEL_PREDICT_ROWS on, when the machine has a second core): each row's score is the
   * same bit for bit, whichever thread walked it. The API's array requests take it.
   */
  async predictProbaAsync(X: Matrix): Promise<Float64Array> {
    assertMatrix(X, this.nFeatures);
    return predictSplit(this.shared ??= shareWalk(this.flat, this.walkFeature), X);
  }

  /**
   * P(class 1) for one row; bit-identical to predictProba on the same row (trees summed in order).
   * Uses the compact rank layout of forest-row.ts; forests too large for it fall back to walking
   * four trees at a time on a node-interleaved copy of the flat arrays.
   */
  predictProbaRow(row: ArrayLike<number>): number {
    if (row.length !== this.nFeatures) throw new RangeError(`row has ${row.length} values, the model expects ${this.nFeatures}`);
    if (this.ranked === undefined) this.ranked = buildRankLayout(this.flat, this.nFeatures);
    if (this.ranked !== null) return predictRowRanked(this.ranked, row);
    return predictRowPacked((this.packed ??= packForRows(this.flat, this.walkFeature)), this.flat, row);
  }

  /** Whether per-node covers are recorded (every forest fitted since they were; see FlatForest.cover). */
  get hasCover(): boolean {
    return this.flat.cover.length > 0 && this.flat.cover.length === this.flat.feature.length;
  }

  /** For tests: which single-row layout this forest uses. */
  get rowLayout(): 'ranked' | 'interleaved' {
    if (this.ranked === undefined) this.ranked = buildRankLayout(this.flat, this.nFeatures);
    return this.ranked !== null ? 'ranked' : 'interleaved';
  }

  /** Impurity-based importances, mean of per-tree normalised importances, summing to 1 (all 0 if every tree is a single leaf). */
  featureImportances(): Float64Array {
    return this.flat.importances.slice();
  }
}

/** Concatenate per-tree arrays; importances averaged over trees that split at least once (as scikit-learn). */
export function flattenTrees(trees: TreeArrays[], nFeatures: number): FlatForest {
  const total = trees.reduce((s, t) => s + t.feature.length, 0);
  const flat: FlatForest = {
    feature: new Int32Array(total), threshold: new Float64Array(total), left: new Int32Array(total),
    value: new Float64Array(total), cover: new Float64Array(total), roots: new Int32Array(trees.length), depths: new Int32Array(trees.length),
    importances: new Float64Array(nFeatures),
  };
  let offset = 0;
  trees.forEach((t, i) => {
    flat.roots[i] = offset;
    flat.depths[i] = t.depth;
    flat.feature.set(t.feature, offset);
    flat.threshold.set(t.threshold, offset);
    flat.value.set(t.value, offset);
    flat.cover.set(t.cover, offset);
    for (let k = 0; k < t.feature.length; k++) flat.left[offset + k] = t.left[k] + offset;
    if (t.feature.length > 1) for (let f = 0; f < nFeatures; f++) flat.importances[f] += t.importances[f];
    offset += t.feature.length;
  });
  const sum = flat.importances.reduce((s, v) => s + v, 0);
  if (sum > 0) for (let f = 0; f < nFeatures; f++) flat.importances[f] /= sum;
  return flat;
}

/** Class weights: 1/1, or n / (2 * n_c) for 'balanced' over the whole training set (scikit-learn's 'balanced'). */
function classWeights(y: Uint8Array, mode: ForestOptions['classWeight']): [number, number] {
  if (mode === 'none') return [1, 1];
  let n1 = 0;
  for (let i = 0; i < y.length; i++) n1 += y[i];
  const n0 = y.length - n1;
  // an absent class has no rows to weigh; 1 keeps the arithmetic finite
  return [n0 > 0 ? y.length / (2 * n0) : 1, n1 > 0 ? y.length / (2 * n1) : 1];
}

/**
 * Options, core parameters and quantised data of a fit: the same for the whole forest and every
 * shard of it. With `at` the fit uses the rows `at` of X (y has one label per entry), read in place.
 */
function prepareFit(X: Matrix, y: Uint8Array, options: Partial<ForestOptions>, nTrees?: number, at?: RowIndex) {
  const opts = resolveForestOptions(options);
  assertMatrix(X);
  if (at) assertRowIndex(X, at);
  const rows = at ? at.length : X.rows;
  if (rows < 2) throw new RangeError(`fitRandomForest needs at least 2 rows, got ${rows}`);
  assertBinaryLabels(y, rows);
  assertFinite(X, at);
  const params: CoreParams = {
    maxDepth: opts.maxDepth ?? Infinity,
    minSamplesSplit: opts.minSamplesSplit,
    minSamplesLeaf: opts.minSamplesLeaf,
    mtry: featuresPerSplit(opts.maxFeatures, X.cols),
    bootstrap: opts.bootstrap,
    classWeight: classWeights(y, opts.classWeight),
    seed: opts.seed,
  };
  const threads = Math.min(opts.nThreads, nTrees ?? opts.nEstimators);
  // the edges come from a seeded row sample, so every shard quantises exactly as the whole fit does
  return { opts, params, threads, q: quantize(X, opts.maxBins, opts.seed, threads > 1, at) };
}

/**
 * Fit a Random Forest on X (rows × features, finite values) and 0/1 labels y; with `at`, on the
 * rows `at` of X (y then has one label per entry of `at`), the same forest as on a copy of them.
 * Throws RangeError naming the bad option or value.
 */
export async function fitRandomForest(X: Matrix, y: Uint8Array, options: Partial<ForestOptions> = {}, hooks: FitHooks = {}, at?: RowIndex): Promise<RandomForest> {
  const { opts, params, threads, q } = prepareFit(X, y, options, undefined, at);
  const trees = await growTrees(q, y, params, opts.nEstimators, threads, hooks);
  return new RandomForest(opts, X.cols, flattenTrees(trees, X.cols));
}

/** Tree indices [from, to) of shard `index` of `count`: contiguous, in order, sizes differing by at most one. */
export function shardRange(nTrees: number, index: number, count: number): { from: number; to: number } {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be a positive integer, got ${count}`);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`shard index must be in [0, ${count}), got ${index}`);
  return { from: Math.floor((index * nTrees) / count), to: Math.floor(((index + 1) * nTrees) / count) };
}

/**
 * Trees [from, to) of the forest `fitRandomForest(X, y, options)` grows, bit for bit: tree i is
 * seeded from (seed, i) and the quantisation depends only on the data and the seed. Merge the
 * shards of a forest, in tree order, with `forestFromTrees`.
 */
export async function fitTreeRange(X: Matrix, y: Uint8Array, options: Partial<ForestOptions>, range: { from: number; to: number }, hooks: FitHooks = {}, at?: RowIndex): Promise<TreeArrays[]> {
  const nTrees = resolveForestOptions(options).nEstimators;
  if (!Number.isInteger(range.from) || !Number.isInteger(range.to) || range.from < 0 || range.to > nTrees || range.from > range.to) {
    throw new RangeError(`tree range [${range.from}, ${range.to}) is not inside [0, ${nTrees})`);
  }
  const { params, threads, q } = prepareFit(X, y, options, Math.max(1, range.to - range.from), at);
  return growTrees(q, y, params, range.to - range.from, threads, hooks, range.from);
}

/** The forest of `trees` (every tree of a fit, in tree order), as `fitRandomForest` would return it. */
export function forestFromTrees(options: Partial<ForestOptions>, nFeatures: number, trees: TreeArrays[]): RandomForest {
  const opts = resolveForestOptions(options);
  if (trees.length !== opts.nEstimators) throw new RangeError(`a forest of ${opts.nEstimators} trees cannot be built from ${trees.length}`);
  return new RandomForest(opts, nFeatures, flattenTrees(trees, nFeatures));
}

/** Trees as flat typed arrays (flattenTrees' node arrays plus each tree's own importances), for storing a shard. */
export function treesToArrays(trees: TreeArrays[], nFeatures: number): Record<string, Float64Array | Int32Array> {
  const { importances: _merged, ...flat } = flattenTrees(trees, nFeatures);
  const treeImportances = new Float64Array(trees.length * nFeatures);
  trees.forEach((t, i) => treeImportances.set(t.importances, i * nFeatures));
  return { ...flat, treeImportances };
}

/** Inverse of `treesToArrays`. @throws CorruptArtifactError when the arrays do not fit together */
export function treesFromArrays(arrays: Record<string, ArrayLike<number>>, nFeatures: number): TreeArrays[] {
  const a = arrays as Partial<Record<string, unknown>>;
  const is = <T>(v: unknown, C: new (...args: never[]) => T): v is T => v instanceof C;
  const { feature, threshold, left, value, cover, roots, depths, treeImportances } = a;
  if (!is(feature, Int32Array) || !is(threshold, Float64Array) || !is(left, Int32Array) || !is(value, Float64Array) || !is(cover, Float64Array)
    || !is(roots, Int32Array) || !is(depths, Int32Array) || !is(treeImportances, Float64Array)) {
    throw new CorruptArtifactError('tree shard lacks one of its arrays (feature, threshold, left, value, cover, roots, depths, treeImportances) or has a wrong type');
  }
  const nodes = feature.length;
  const n = roots.length;
  if (threshold.length !== nodes || left.length !== nodes || value.length !== nodes || cover.length !== nodes || depths.length !== n || treeImportances.length !== n * nFeatures) {
    throw new CorruptArtifactError(`tree shard of ${n} trees and ${nodes} nodes has arrays of inconsistent lengths`);
  }
  return Array.from({ length: n }, (_, i) => {
    const start = roots[i]!;
    const end = i + 1 < n ? roots[i + 1]! : nodes;
    if (!(start >= 0 && start < end && end <= nodes)) throw new CorruptArtifactError(`tree shard: tree ${i} spans nodes [${start}, ${end}) of ${nodes}`);
    return {
      feature: feature.slice(start, end), threshold: threshold.slice(start, end), left: left.slice(start, end).map((c) => c - start),
      value: value.slice(start, end), cover: cover.slice(start, end), depth: depths[i]!, importances: treeImportances.slice(i * nFeatures, (i + 1) * nFeatures),
    };
  });
}
