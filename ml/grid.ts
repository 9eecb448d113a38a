/**
 * Grid search building blocks: expand a parameter grid, score one (params x fold) cell, summarise.
 * Cells are independent so the caller (a Temporal activity per cell) can spread them over workers.
 */
import { foldIndices } from './cv';
import { ENGINES, fitEngine, type EngineName } from './engines';
import { resolveForestOptions, type FitHooks, type ForestOptions } from './forest';
import { selectLabels, selectRows, type Matrix } from './matrix';
import { averagePrecision, confusionAt, precisionRecallF1, rocAuc } from './metrics';

export type ParamValue = number | string | null;
export type ParamGrid = Record<string, readonly ParamValue[]>;
export type ParamSet = Record<string, ParamValue>;

/** Metrics a grid search can optimise; recall, precision and f1 are taken at threshold 0.5. */
export const SCORINGS = ['recall', 'f1', 'roc_auc', 'average_precision'] as const;
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

/** A grid cell's parameters as forest options; RangeError names an unknown option or bad value. */
export function paramsToOptions(params: ParamSet): Partial<ForestOptions> {
  resolveForestOptions(params as Partial<ForestOptions>);
  return params as Partial<ForestOptions>;
}

export interface CellMetrics {
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

/** Fit on every fold but `foldIndex`, score the held-out fold. `seed` (when given) overrides params.seed. */
export async function runCvCell(args: {
  X: Matrix; y: Uint8Array; folds: Int32Array; foldIndex: number; params: Partial<ForestOptions>;
  engine?: EngineName; scoring: Scoring; seed?: number; hooks?: FitHooks;
}): Promise<CellResult> {
  const { X, y, folds, foldIndex, scoring } = args;
  if (!SCORINGS.includes(scoring)) throw new RangeError(`scoring must be one of ${SCORINGS.join(', ')}, got ${String(scoring)}`);
  if (folds.length !== X.rows) throw new RangeError(`folds has ${folds.length} entries, X has ${X.rows} rows`);
  const { train, test } = foldIndices(folds, foldIndex);
  const options = args.seed === undefined ? args.params : { ...args.params, seed: args.seed };
  const t0 = performance.now();
  const model = await fitEngine(args.engine ?? ENGINES.retail24, selectRows(X, train), selectLabels(y, train), options, args.hooks);
  const fitMs = performance.now() - t0;
  const testProba = model.predictProba(selectRows(X, test));
  const yTest = selectLabels(y, test);
  const prf = precisionRecallF1(confusionAt(yTest, testProba, 0.5));
  const metrics: CellMetrics = {
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
