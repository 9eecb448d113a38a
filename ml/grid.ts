/**
 * Grid search building blocks: expand a parameter grid, score one (params x fold) cell, summarise.
 * Cells are independent so the caller (a Temporal activity per cell) can spread them over workers.
 */
import { foldIndices } from './cv';
import { ENGINES, engineNamed, fitEngine, predictProbaAt, type EngineName } from './engines';
import type { FitHooks, ForestOptions } from './forest';
import { selectLabels, type Matrix, type RowIndex } from './matrix';
import { averagePrecision, confusionAt, precisionRecallF1, rocAuc } from './metrics';
import { precisionAtRecall } from './compare';

export type ParamValue = number | string | null;
export type ParamGrid = Record<string, readonly ParamValue[]>;
export type ParamSet = Record<string, ParamValue>;

/**
 * Metrics a grid search can optimise. `precision_at_target_recall` is the precision at the
 * threshold where the fold reaches the target recall: the operating point the model is deployed
 * at. recall, precision and f1 are taken at threshold 0.5 (under balanced class weights they
 * measure how far scores sit above 0.5, not how well a model ranks buyers).
 */
export const SCORINGS = ['precision_at_target_recall', 'roc_auc', 'average_precision', 'recall', 'f1'] as const;
export type Scoring = (typeof SCORINGS)[number];

/**
 * Every combination of the grid's values. Keys are sorted by name (as scikit-learn's ParameterGrid)
 * and the last key varies fastest, so the order does not depend on how the grid object was written.
 */
export function expandGrid(grid: ParamGrid): ParamSet[] {
  const keys = Object.keys(grid).sort();
  for (const k of keys) {
    if (!Array.isArray(grid[k]) || grid[k].length === 0) throw new RangeError(`grid entry "${k}" must be a non-empty array`);
  }
  let out: ParamSet[] = [{}];
  for (const k of keys) out = out.flatMap((p) => grid[k].map((v) => ({ ...p, [k]: v })));
  return out;
}

/** Stable key of a parameter set: sorted `name=value` pairs joined by "|". */
export function cellKey(params: ParamSet): string {
  return Object.keys(params).sort().map((k) => `${k}=${JSON.stringify(params[k])}`).join('|');
}

/**
 * A grid cell's parameters as the engine's options, checked by the engine (RangeError names an
 * unknown option or a bad value). @param engine @default 'retail24'
 */
export function paramsToOptions(params: ParamSet, engine: EngineName = ENGINES.retail24): Partial<ForestOptions> {
  engineNamed(engine).resolveOptions(params);
  return params as Partial<ForestOptions>;
}

export interface CellMetrics {
  precision_at_target_recall: number;
  recall: number;
  precision: number;
  f1: number;
  roc_auc: number;
  average_precision: number;
}

export interface CellResult {
  score: number;
  metrics: CellMetrics;
  fitMs: number;
  testIndices: Int32Array;
  testProba: Float64Array;
}

/**
 * Fit on every fold but `foldIndex`, score the held-out fold. `seed` (when given) overrides
 * params.seed. The data are the rows `rows` of X (every row when absent; y and folds have one
 * entry per data row), read in place: neither the folds nor the training data are copied.
 * `testIndices` are positions in the data (0 .. y.length - 1), not rows of X.
 */
export async function runCvCell(args: {
  X: Matrix; rows?: RowIndex; y: Uint8Array; folds: Int32Array; foldIndex: number; params: Partial<ForestOptions>;
  engine?: EngineName; scoring: Scoring; seed?: number; hooks?: FitHooks;
  /** For `precision_at_target_recall`. @default 0.9 */
  targetRecall?: number;
}): Promise<CellResult> {
  const { X, rows, y, folds, foldIndex, scoring } = args;
  if (!SCORINGS.includes(scoring)) throw new RangeError(`scoring must be one of ${SCORINGS.join(', ')}, got ${String(scoring)}`);
  const n = rows ? rows.length : X.rows;
  if (folds.length !== n) throw new RangeError(`folds has ${folds.length} entries, the data has ${n} rows`);
  const { train, test } = foldIndices(folds, foldIndex);
  const rowsOf = (pos: Int32Array): Int32Array => (rows ? pos.map((p) => rows[p]!) : pos);
  const options = args.seed === undefined ? args.params : { ...args.params, seed: args.seed };
  const t0 = performance.now();
  const model = await fitEngine(args.engine ?? ENGINES.retail24, X, selectLabels(y, train), options, args.hooks, rowsOf(train));
  const fitMs = performance.now() - t0;
  const testProba = predictProbaAt(model, X, rowsOf(test));
  const yTest = selectLabels(y, test);
  const prf = precisionRecallF1(confusionAt(yTest, testProba, 0.5));
  const hasBoth = yTest.includes(1) && yTest.includes(0);
  const metrics: CellMetrics = {
    precision_at_target_recall: hasBoth ? precisionAtRecall(yTest, testProba, args.targetRecall ?? 0.9).precision : Number.NaN,
    recall: prf.recall, precision: prf.precision, f1: prf.f1,
    roc_auc: rocAuc(yTest, testProba), average_precision: averagePrecision(yTest, testProba),
  };
  return { score: metrics[scoring], metrics, fitMs, testIndices: test, testProba };
}

export interface CellSummary {
  key: string;
  params: ParamSet;
  folds: number;
  meanScore: number;
  /** population standard deviation over folds (numpy's default, as scikit-learn's cv_results_) */
  stdScore: number;
  meanFitMs: number;
  meanMetrics: CellMetrics;
  /** 1 = best mean score */
  rank: number;
}

/** Group fold results by parameter set: mean/std score, mean fit time, mean metrics; ranked best first. */
export function summariseCells(results: readonly { params: ParamSet; score: number; fitMs: number; metrics: CellMetrics }[]): CellSummary[] {
  const groups = new Map<string, { params: ParamSet; rows: typeof results[number][] }>();
  for (const r of results) {
    const key = cellKey(r.params);
    const g = groups.get(key) ?? { params: r.params, rows: [] };
    g.rows.push(r);
    groups.set(key, g);
  }
  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
  const summaries = [...groups.entries()].map(([key, g]) => {
    const scores = g.rows.map((r) => r.score);
    const m = mean(scores);
    const meanMetrics = Object.fromEntries(
      (Object.keys(g.rows[0].metrics) as (keyof CellMetrics)[]).map((k) => [k, mean(g.rows.map((r) => r.metrics[k]))]),
    ) as unknown as CellMetrics;
    return {
      key, params: g.params, folds: g.rows.length, meanScore: m,
      stdScore: Math.sqrt(mean(scores.map((s) => (s - m) ** 2))), meanFitMs: mean(g.rows.map((r) => r.fitMs)), meanMetrics, rank: 0,
    };
  });
  // ties keep the key order so the ranking is deterministic
  summaries.sort((a, b) => b.meanScore - a.meanScore || (a.key < b.key ? -1 : 1));
  summaries.forEach((s, i) => (s.rank = i + 1));
  return summaries;
}

/** How the final cell was chosen, recorded with the run. */
export interface CellChoice {
  chosen: CellSummary;
  best: CellSummary;
  /** best.meanScore − one standard error of best's mean: cells at or above it count as tied. */
  cutoff: number;
  rule: string;
}

/** Sorts simpler first: shallower (null depth = unbounded), then larger leaves, then fewer trees. */
function simplicity(p: ParamSet): [number, number, number] {
  const depth = typeof p.maxDepth === 'number' ? p.maxDepth : Number.POSITIVE_INFINITY;
  const leaf = typeof p.minSamplesLeaf === 'number' ? p.minSamplesLeaf : 1;
  const trees = typeof p.nEstimators === 'number' ? p.nEstimators : 100;
  return [depth, -leaf, trees];
}

/**
 * The one-standard-error rule (Breiman et al. 1984; Hastie, Tibshirani & Friedman, ESL §7.10):
 * cells whose mean CV score is within one standard error of the best cell's mean are not
 * distinguishable from it on this data, so the simplest of them is chosen (see
 * {@link simplicity}). The standard error is the sample standard deviation over folds / √folds.
 */
export function chooseCell(summaries: readonly CellSummary[]): CellChoice {
  if (summaries.length === 0) throw new RangeError('chooseCell needs at least one cell');
  const best = summaries[0]!;
  const k = best.folds;
  const se = k > 1 ? (best.stdScore * Math.sqrt(k / (k - 1))) / Math.sqrt(k) : 0;
  const cutoff = best.meanScore - se;
  const tied = summaries.filter((s) => s.meanScore >= cutoff);
  tied.sort((a, b) => {
    const x = simplicity(a.params), y = simplicity(b.params);
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || b.meanScore - a.meanScore || (a.key < b.key ? -1 : 1);
  });
  const chosen = tied[0]!;
  const rule = chosen === best
    ? `best mean CV score (${best.meanScore.toFixed(4)}); no simpler cell within one standard error (${se.toFixed(4)})`
    : `one-standard-error rule: ${chosen.key} (${chosen.meanScore.toFixed(4)}) is the simplest of ${tied.length} cells within one standard error (${se.toFixed(4)}) of the best, ${best.key} (${best.meanScore.toFixed(4)})`;
  return { chosen, best, cutoff, rule };
}
