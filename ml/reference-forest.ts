/**
 * ml-random-forest 2.1.0 wrapped as a second, reference engine. It is kept honest: our options are
 * mapped to its nearest equivalents and nothing is tuned. Known differences: it draws one feature
 * subset per tree (not per split), supports no class weights, and its trees vote a class, so
 * P(class 1) is the share of trees voting 1 (computed here; its own predictProbability seeds the vote
 * sum with the first tree's label and is off by up to one vote).
 */
import { RandomForestClassifier } from 'ml-random-forest';
import { featuresPerSplit, resolveForestOptions, type ForestOptions } from './forest-options';
import type { FitHooks } from './forest-pool';
import { assertBinaryLabels, assertFinite, assertMatrix, type Matrix } from './matrix';

interface VoteMatrix {
  rows: number;
  columns: number;
  get(row: number, column: number): number;
}
interface MlrfInternals {
  predictionValues(rows: number[][]): VoteMatrix;
  featureImportance(): number[];
  toJSON(): unknown;
}

function toRows(X: Matrix): number[][] {
  const rows: number[][] = new Array(X.rows);
  for (let r = 0; r < X.rows; r++) rows[r] = Array.from(X.data.subarray(r * X.cols, (r + 1) * X.cols));
  return rows;
}

/** A fitted ml-random-forest classifier behind the ProbabilisticModel interface. */
export class ReferenceForest {
  readonly nFeatures: number;
  readonly options: ForestOptions;
  private readonly inner: MlrfInternals;

  constructor(inner: RandomForestClassifier, nFeatures: number, options: ForestOptions) {
    this.inner = inner as unknown as MlrfInternals;
    this.nFeatures = nFeatures;
    this.options = options;
  }

  private votes(rows: number[][]): Float64Array {
    const m = this.inner.predictionValues(rows);
    const out = new Float64Array(m.rows);
    for (let i = 0; i < m.rows; i++) {
      let ones = 0;
      for (let t = 0; t < m.columns; t++) if (m.get(i, t) === 1) ones++;
      out[i] = ones / m.columns;
    }
    return out;
  }

  /** Share of trees voting class 1, per row. */
  predictProba(X: Matrix): Float64Array {
    assertMatrix(X, this.nFeatures);
    return X.rows === 0 ? new Float64Array(0) : this.votes(toRows(X));
  }

  predictProbaRow(row: ArrayLike<number>): number {
    if (row.length !== this.nFeatures) throw new RangeError(`row has ${row.length} values, the model expects ${this.nFeatures}`);
    return this.votes([Array.from(row)])[0];
  }

  /** ml-random-forest's gain-based importances, or null when it cannot compute them (no split with gain). */
  featureImportances(): Float64Array | null {
    const imp = Float64Array.from(this.inner.featureImportance());
    return imp.every(Number.isFinite) ? imp : null;
  }

  /** ml-random-forest's own JSON model, for the serialisation envelope. */
  toJSON(): unknown {
    return this.inner.toJSON();
  }

  static fromJSON(json: unknown, nFeatures: number, options: ForestOptions): ReferenceForest {
    const inner = RandomForestClassifier.load(json as Parameters<typeof RandomForestClassifier.load>[0]);
    return new ReferenceForest(inner, nFeatures, options);
  }
}

/** Fit ml-random-forest with our options mapped to its own (synchronous; progress reported once at the end). */
export async function fitReferenceForest(X: Matrix, y: Uint8Array, options: Partial<ForestOptions> = {}, hooks: FitHooks = {}): Promise<ReferenceForest> {
  const opts = resolveForestOptions(options);
  assertMatrix(X);
  assertBinaryLabels(y, X.rows);
  assertFinite(X);
  if (opts.classWeight !== 'none') {
    throw new RangeError(`classWeight '${opts.classWeight}' is not supported by the ml-random-forest engine`);
  }
  hooks.signal?.throwIfAborted();
  const rf = new RandomForestClassifier({
    nEstimators: opts.nEstimators,
    // its maxFeatures is a per-tree subset; the same count as our per-split draw, without repeats
    maxFeatures: featuresPerSplit(opts.maxFeatures, X.cols),
    replacement: false,
    seed: opts.seed,
    useSampleBagging: opts.bootstrap,
    // its out-of-bag step is unused here and crashed at 4,000 rows ("input must not be empty")
    noOOB: true,
    treeOptions: {
      maxDepth: opts.maxDepth ?? Infinity,
      // it makes a leaf when rows <= minNumSamples; ours: no split below minSamplesSplit rows
      minNumSamples: opts.minSamplesSplit - 1,
    },
  });
  rf.train(toRows(X), Array.from(y));
  hooks.signal?.throwIfAborted();
  hooks.onProgress?.(opts.nEstimators, opts.nEstimators);
  return new ReferenceForest(rf, X.cols, opts);
}
