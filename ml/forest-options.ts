/**
 * Options of the retail24 Random Forest, their defaults and validation.
 */
import { availableParallelism } from 'node:os';

/** Hyper-parameters of `fitRandomForest`; names and meanings follow scikit-learn's RandomForestClassifier. */
export interface ForestOptions {
  /** Number of trees. @default 100 */
  nEstimators: number;
  /** Maximum depth (root is depth 0); null grows until leaves are pure or too small. @default null */
  maxDepth: number | null;
  /** A node with fewer (distinct) samples is not split. @default 2 */
  minSamplesSplit: number;
  /** Every leaf keeps at least this many (distinct) samples. @default 1 */
  minSamplesLeaf: number;
  /** Features drawn at each split: 'sqrt', 'log2', a fraction in (0, 1), or an integer count >= 1. @default 'sqrt' */
  maxFeatures: 'sqrt' | 'log2' | number;
  /** 'balanced' weighs class c by n / (2 * n_c) in split counts and leaf values, as scikit-learn. @default 'none' */
  classWeight: 'none' | 'balanced';
  /** Draw a bootstrap sample (n rows with replacement) per tree. @default true */
  bootstrap: boolean;
  /** Histogram bins per feature, 2..255 (codes are uint8). @default 255 */
  maxBins: number;
  /** Seed; tree i is seeded from (seed, i) only, so results do not depend on nThreads. @default 42 */
  seed: number;
  /** Worker threads for training; 1 trains in-process. @default os.availableParallelism() */
  nThreads: number;
}

/** Default options; nThreads is filled in at call time from the machine. */
export const DEFAULT_FOREST_OPTIONS: Readonly<Omit<ForestOptions, 'nThreads'>> = {
  nEstimators: 100,
  maxDepth: null,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  maxFeatures: 'sqrt',
  classWeight: 'none',
  bootstrap: true,
  maxBins: 255,
  seed: 42,
};

const KNOWN = new Set<string>([...Object.keys(DEFAULT_FOREST_OPTIONS), 'nThreads']);

function intAtLeast(name: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(v)}`);
  }
}

/** Merge `options` over the defaults and validate; RangeError names the bad option and value. */
export function resolveForestOptions(options: Partial<ForestOptions> = {}): ForestOptions {
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new RangeError(`unknown forest option "${key}"`);
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o: ForestOptions = { ...DEFAULT_FOREST_OPTIONS, nThreads: availableParallelism(), ...defined };
  intAtLeast('nEstimators', o.nEstimators, 1);
  if (o.maxDepth !== null) intAtLeast('maxDepth', o.maxDepth, 0);
  intAtLeast('minSamplesSplit', o.minSamplesSplit, 2);
  intAtLeast('minSamplesLeaf', o.minSamplesLeaf, 1);
  const mf = o.maxFeatures;
  const mfOk = mf === 'sqrt' || mf === 'log2' || (typeof mf === 'number' && ((mf > 0 && mf < 1) || (Number.isInteger(mf) && mf >= 1)));
  if (!mfOk) throw new RangeError(`maxFeatures must be 'sqrt', 'log2', a fraction in (0, 1) or an integer >= 1, got ${String(mf)}`);
  if (o.classWeight !== 'none' && o.classWeight !== 'balanced') {
    throw new RangeError(`classWeight must be 'none' or 'balanced', got ${String(o.classWeight)}`);
  }
  if (typeof o.bootstrap !== 'boolean') throw new RangeError(`bootstrap must be a boolean, got ${String(o.bootstrap)}`);
  intAtLeast('maxBins', o.maxBins, 2);
  if (o.maxBins > 255) throw new RangeError(`maxBins must be <= 255 (uint8 codes), got ${o.maxBins}`);
  if (typeof o.seed !== 'number' || !Number.isInteger(o.seed)) throw new RangeError(`seed must be an integer, got ${String(o.seed)}`);
  intAtLeast('nThreads', o.nThreads, 1);
  return o;
}

/** Number of features drawn per split for `d` features (at least 1, at most d). */
export function featuresPerSplit(maxFeatures: ForestOptions['maxFeatures'], d: number): number {
  let m: number;
  if (maxFeatures === 'sqrt') m = Math.floor(Math.sqrt(d));
  else if (maxFeatures === 'log2') m = Math.floor(Math.log2(d));
  else if (maxFeatures < 1) m = Math.floor(maxFeatures * d);
  else {
    if (maxFeatures > d) throw new RangeError(`maxFeatures ${maxFeatures} exceeds the number of features ${d}`);
    m = maxFeatures;
  }
  return Math.min(d, Math.max(1, m));
}

/**
 * The part of an engine (ml/engine.ts) every random-forest engine shares: grid parameters
 * resolved to ForestOptions, and a fitted model's options read back from it.
 */
export const FOREST_OPTIONS_SEAM = {
  resolveOptions: (params: Record<string, unknown>): ForestOptions => resolveForestOptions(params as Partial<ForestOptions>),
  optionsOf: (model: { readonly options: ForestOptions }): ForestOptions => model.options,
};
