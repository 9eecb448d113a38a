import type { Db } from 'mongodb';
import { loadDataset, takeLabels } from '../store/datasets';
import { putBlob, getBlob } from '../store/blobs';
import { BUCKETS } from '../store/collections';
import { cellsOfRun, findCell, saveCell, type CellDoc } from '../store/cv-cells';
import { packArrays, unpackArrays } from '../store/typed-pack';
import { expandGrid, cellKey, chooseCell, runCvCell, summariseCells, paramsToOptions } from '../ml/grid';
import { applyCalibratorBatch, expectedCalibrationError, fitCalibrator, fitIsotonic, fitPlatt, meanProbability, type Calibrator } from '../ml/calibration';
import { rocAuc } from '../ml/metrics';
import { patchRun } from '../store/runs';
import { stratifiedKFold } from '../ml/cv';
import { chooseThreshold } from '../ml/threshold';
import type { Matrix } from '../ml/matrix';
import type { CellResult, CellTask, ParamGrid, Params, SelectionSummary, TrainingSettings } from '../common/workflow-types';
import { activityLog, nonRetryable, withKeepalive, FAILURE_TYPES } from './context';
import type { ActivityDeps } from './deps';

/**
 * The training split of a dataset: the rows `rows` of the dataset's whole matrix `X`, read in
 * place (a copy of the training rows was 333 MB at a million users, held beside the matrix), with
 * their labels and the folds drawn over them.
 */
interface TrainView {
  X: Matrix;
  rows: Int32Array;
  y: Uint8Array;
  folds: Map<string, Int32Array>;
}
const trainViews = new Map<string, TrainView>();

/** The training split of a dataset, memoised per process while its dataset is cached (immutable by id). */
export async function trainView(db: Db, datasetId: string): Promise<TrainView> {
  const ds = await loadDataset(db, datasetId);
  if (!ds) throw nonRetryable(FAILURE_TYPES.notFound, new Error(`dataset ${datasetId} not found`));
  const hit = trainViews.get(datasetId);
  // the view shares the cached dataset's matrix: rebuilt when the dataset was loaded anew
  if (hit && hit.X.data === ds.arrays.X) return hit;
  const { X, y, train } = ds.arrays;
  const view: TrainView = { X: { data: X, rows: ds.doc.rows, cols: ds.doc.cols }, rows: train, y: takeLabels(y, train), folds: new Map() };
  if (trainViews.size >= 2) trainViews.delete(trainViews.keys().next().value!);
  trainViews.set(datasetId, view);
  return view;
}

function foldsOf(view: TrainView, k: number, seed: number): Int32Array {
  const key = `${k}:${seed}`;
  const hit = view.folds.get(key);
  if (hit) return hit;
  const f = stratifiedKFold(view.y, k, seed);
  view.folds.set(key, f);
  return f;
}

/** One row of the CV table as stored with a version (registry) and shown on the run page. */
export interface CvRow {
  cellKey: string;
  params: Params;
  mean: number;
  std: number;
  fitMs: number;
  folds: number;
  rank: number;
  meanMetrics: Record<string, number>;
  /** The cell the selection rule chose (not always rank 1: see chooseCell). */
  chosen?: boolean;
}

export function createTrainingActivities({ db, workerIdentity }: ActivityDeps) {
  return {
    /** Expands the grid into (params × fold) cells; pure, an activity only because ML code stays out of workflows. */
    async planGrid(args: { runId: string; datasetId: string; grid: ParamGrid; folds: number; seed: number; classWeight: string; engine: TrainingSettings['engine']; scoring: TrainingSettings['scoring']; targetRecall: number }): Promise<CellTask[]> {
      let cells: Params[];
      try {
        cells = expandGrid(args.grid);
      } catch (err) {
        throw nonRetryable(FAILURE_TYPES.badConfig, err);
      }
      return cells.flatMap((p) => {
        const params = { ...p, classWeight: args.classWeight };
        return Array.from({ length: args.folds }, (_, foldIndex) => ({
          runId: args.runId, datasetId: args.datasetId, params, cellKey: cellKey(params), foldIndex, folds: args.folds, seed: args.seed,
          engine: args.engine, scoring: args.scoring, targetRecall: args.targetRecall,
        }));
      });
    },

    /**
     * Fits and scores one (params × fold) cell. The result and out-of-fold predictions are stored
     * under (run, cell, fold), so a retried or duplicated cell returns the stored result.
     */
    async runCvCell(task: CellTask): Promise<CellResult> {
      const _id = `${task.runId}:${task.cellKey}:${task.foldIndex}`;
      const done = await findCell(db, _id);
      if (done) return { cellKey: done.cellKey, foldIndex: done.foldIndex, score: done.score, metrics: { ...done.metrics }, fitMs: done.fitMs, workerIdentity: done.workerIdentity };
      let r: Awaited<ReturnType<typeof runCvCell>>;
      try {
        // kept alive through the dataset's load, the quantisation and a wait for the process's threads
        r = await withKeepalive({ stage: 'loading' }, async (beat) => {
          const view = await trainView(db, task.datasetId);
          const folds = foldsOf(view, task.folds, task.seed);
          beat({ stage: 'fitting' });
          return runCvCell({
            X: view.X, rows: view.rows, y: view.y, folds, foldIndex: task.foldIndex, params: paramsToOptions(task.params, task.engine),
            engine: task.engine, scoring: task.scoring, targetRecall: task.targetRecall, seed: task.seed,
            hooks: { onProgress: (d: number, t: number) => beat({ treesDone: d, trees: t }), onWarning: (m: string) => activityLog().warn(m) },
          });
        });
      } catch (err) {
        if (err instanceof RangeError) throw nonRetryable(FAILURE_TYPES.badConfig, err);
        throw err;
      }
      // kept alive too: a put that meets a crashed attempt's chunks waits for them to stall (store/blobs.ts)
      await withKeepalive({ stage: 'storing' }, () => putBlob(db, BUCKETS.oof, _id, packArrays({ idx: r.testIndices, proba: r.testProba })));
      const doc: CellDoc = { _id, runId: task.runId, cellKey: task.cellKey, params: task.params, foldIndex: task.foldIndex, score: r.score, metrics: r.metrics, fitMs: r.fitMs, workerIdentity, finishedAt: new Date() };
      await saveCell(db, doc);
      return { cellKey: task.cellKey, foldIndex: task.foldIndex, score: r.score, metrics: { ...r.metrics }, fitMs: r.fitMs, workerIdentity };
    },

    /**
     * Picks the cell (best mean CV score, ties within one standard error to the simpler cell),
     * fits a calibrator on its out-of-fold predictions (every training row scored by a model that
     * did not see it), and chooses the decision threshold on the *calibrated* out-of-fold scores:
     * the highest-precision threshold that still reaches the target recall. The calibrator and the
     * out-of-fold evaluation are stored on the run (refit and register read them there).
     */
    async selectBest(args: { runId: string; datasetId: string; targetRecall: number; calibration: TrainingSettings['calibration'] }): Promise<SelectionSummary & { cvTable: CvRow[] }> {
      const cells = await cellsOfRun(db, args.runId);
      if (cells.length === 0) throw nonRetryable(FAILURE_TYPES.notFound, new Error(`run ${args.runId} has no grid-search results`));
      // summariseCells ranks by mean score, ties broken by key: deterministic whatever the order cells finished in.
      const summaries = summariseCells(cells);
      const choice = chooseCell(summaries);
      const table: CvRow[] = summaries.map((c) => ({
        cellKey: c.key, params: c.params, mean: c.meanScore, std: c.stdScore, fitMs: c.meanFitMs, folds: c.folds, rank: c.rank, meanMetrics: { ...c.meanMetrics },
        chosen: c.key === choice.chosen.key,
      }));
      const view = await trainView(db, args.datasetId);
      const oof = new Float64Array(view.y.length).fill(Number.NaN);
      for (const c of cells.filter((c) => c.cellKey === choice.chosen.key)) {
        const { arrays } = unpackArrays(await getBlob(db, BUCKETS.oof, c._id));
        const idx = arrays.idx as Int32Array;
        const proba = arrays.proba as Float64Array;
        for (let i = 0; i < idx.length; i++) oof[idx[i]!] = proba[i]!;
      }
      if (oof.some(Number.isNaN)) throw new Error(`run ${args.runId}: out-of-fold predictions incomplete for ${choice.chosen.key}`);
      const calibrator = calibratorFor(args.calibration, oof, view.y);
      const calibrated = applyCalibratorBatch(calibrator, oof);
      const threshold = chooseThreshold(view.y, calibrated, args.targetRecall);
      const oofEvaluation = {
        rows: view.y.length,
        roc_auc_raw: rocAuc(view.y, oof),
        roc_auc: rocAuc(view.y, calibrated),
        ece_raw: expectedCalibrationError(view.y, oof),
        ece: expectedCalibrationError(view.y, calibrated),
        mean_probability_raw: meanProbability(oof),
        mean_probability: meanProbability(calibrated),
        base_rate: view.y.reduce((a, b) => a + b, 0) / view.y.length,
      };
      await patchRun(db, args.runId, { calibrator, oofEvaluation, selectionRule: choice.rule });
      return { bestParams: choice.chosen.params, bestCellKey: choice.chosen.key, bestScore: choice.chosen.meanScore, threshold, selectionRule: choice.rule, calibration: calibrator.kind, cvTable: table };
    },
  };
}

/** `auto`: isotonic with enough rows, else Platt (ml/calibration.ts); `none`: the raw forest share. */
function calibratorFor(mode: TrainingSettings['calibration'], oof: Float64Array, y: Uint8Array): Calibrator {
  if (mode === 'none') return { kind: 'identity' };
  if (mode === 'isotonic') return fitIsotonic(oof, y);
  if (mode === 'platt') return fitPlatt(oof, y);
  return fitCalibrator(oof, y);
}

export type TrainingSettingsForCells = Pick<TrainingSettings, 'paramGrid' | 'folds' | 'seed' | 'classWeight'>;
