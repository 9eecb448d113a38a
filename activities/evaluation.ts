import { loadDataset, takeRows, takeLabels } from '../store/datasets';
import { putBlob } from '../store/blobs';
import { BUCKETS } from '../store/collections';
import { getRun, patchRun } from '../store/runs';
import { fitEngine } from '../ml/engines';
import { paramsToOptions } from '../ml/grid';
import { serializeModel } from '../ml/serialize';
import { evaluateBinary, type BinaryEvaluation } from '../ml/metrics';
import type { Params, ThresholdChoice } from '../common/workflow-types';
import { heartbeat, nonRetryable, FAILURE_TYPES } from './context';
import type { ActivityDeps } from './deps';

export interface RefitSummary {
  blob: { id: string; sha256: string; bytes: number };
  metrics: Record<string, number>;
  fitMs: number;
}

/** Holdout metrics as flat snake_case numbers (registry, gate, pages, status JSON). */
export function flatMetrics(ev: BinaryEvaluation): Record<string, number> {
  return {
    roc_auc: ev.rocAuc,
    average_precision: ev.averagePrecision,
    precision: ev.precision,
    recall: ev.recall,
    f1: ev.f1,
    brier: ev.brier,
    log_loss: ev.logLoss,
    accuracy: (ev.tp + ev.tn) / Math.max(1, ev.n),
    lift_top10: ev.liftTop10.lift,
    capture_top10: ev.liftTop10.capture,
    base_rate: ev.baseRate,
    threshold: ev.threshold,
    n: ev.n,
    positives: ev.positives,
  };
}

export function createEvaluationActivities({ db, config }: ActivityDeps) {
  return {
    /**
     * Refits the chosen parameters on the whole training split, evaluates on the holdout at the
     * chosen threshold and stores the model blob under the run id. A retry after success returns
     * the stored result; a retry mid-fit restarts the fit (same seed, same model).
     */
    async refitAndEvaluate(args: { runId: string; datasetId: string; params: Params; threshold: ThresholdChoice; seed: number }): Promise<RefitSummary> {
      const run = await getRun(db, args.runId);
      if (run?.refit) return run.refit as RefitSummary;
      const ds = await loadDataset(db, args.datasetId);
      if (!ds) throw nonRetryable(FAILURE_TYPES.notFound, new Error(`dataset ${args.datasetId} not found`));
      const { X, y, train, holdout } = ds.arrays;
      const cols = ds.doc.cols;
      const t0 = Date.now();
      const model = await fitEngine(config.ENGINE, { data: takeRows(X, cols, train), rows: train.length, cols }, takeLabels(y, train), { ...paramsToOptions(args.params), seed: args.seed }, {
        onProgress: (d: number, t: number) => heartbeat({ treesDone: d, trees: t }),
      });
      const fitMs = Date.now() - t0;
      const yh = takeLabels(y, holdout);
      const proba = model.predictProba({ data: takeRows(X, cols, holdout), rows: holdout.length, cols });
      const ev = evaluateBinary(yh, proba, args.threshold.threshold);
      const importances = model.featureImportances();
      const buf = serializeModel(model as never, { featureNames: ds.doc.names, featureSpec: ds.doc.spec });
      const blob = await putBlob(db, BUCKETS.models, `run:${args.runId}`, buf, { runId: args.runId });
      const refit: RefitSummary = { blob, metrics: flatMetrics(ev), fitMs };
      await patchRun(db, args.runId, {
        refit,
        evaluation: ev,
        featureImportances: importances ? ds.doc.names.map((name, i) => ({ name, importance: importances[i]! })).sort((a, b) => b.importance - a.importance) : [],
      });
      return refit;
    },
  };
}
