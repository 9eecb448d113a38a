/**
 * The default grid search (nEstimators [100, 200] x maxDepth [5, 10], 3 stratified folds, scoring
 * recall) timed end to end with retail24's engine, cell after cell as one worker would run them.
 */
import { availableParallelism } from 'node:os';
import { stratifiedKFold } from '../ml/cv';
import { expandGrid, paramsToOptions, runCvCell, summariseCells } from '../ml/grid';
import type { SyntheticData } from '../testkit/synthetic';

export async function runGridBench(data: SyntheticData, quick: boolean): Promise<Record<string, unknown>> {
  const grid = quick ? { nEstimators: [20, 40], maxDepth: [5, 10] } : { nEstimators: [100, 200], maxDepth: [5, 10] };
  const folds = stratifiedKFold(data.y, 3, 42);
  const t0 = performance.now();
  const results = [];
  for (const params of expandGrid(grid)) {
    for (let f = 0; f < 3; f++) {
      const r = await runCvCell({ X: data.X, y: data.y, folds, foldIndex: f, params: { ...paramsToOptions(params), nThreads: availableParallelism() }, scoring: 'recall' });
      results.push({ params, ...r });
    }
  }
  const totalS = (performance.now() - t0) / 1000;
  const summary = summariseCells(results).map((s) => ({
    params: s.params, mean_recall: s.meanScore, std_recall: s.stdScore, mean_roc_auc: s.meanMetrics.roc_auc, mean_fit_s: s.meanFitMs / 1000,
  }));
  return { rows: data.X.rows, grid, folds: 3, cells: results.length, scoring: 'recall', total_s: totalS, summary };
}
