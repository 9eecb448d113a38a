import { loadDataset, takeLabels } from '../store/datasets';
import { BlobNotFoundError, getBlob, putBlob, sha256 } from '../store/blobs';
import { packArrays, unpackArrays } from '../store/typed-pack';
import { BUCKETS } from '../store/collections';
import { getRun, patchRun } from '../store/runs';
import { ENGINES, fitEngine, predictProbaAt } from '../ml/engines';
import { selectRows } from '../ml/matrix';
import { paramsToOptions } from '../ml/grid';
import { serializeModel } from '../ml/serialize';
import { evaluateBinary, rocAuc, type BinaryEvaluation } from '../ml/metrics';
import { applyCalibratorBatch, expectedCalibrationError, meanProbability, reliabilityCurve, type Calibrator, type ReliabilityCurve } from '../ml/calibration';
import { precisionAtRecall, singleFeatureAuc } from '../ml/compare';
import type { EngineName } from '../ml/engines';
import { RandomForest, fitTreeRange, forestFromTrees, resolveForestOptions, shardRange, treesFromArrays, treesToArrays } from '../ml/forest';
import type { TreeArrays } from '../ml/forest-core';
import { trainView } from './training';
import { meanAbsContributions } from '../ml/explain';
import type { Params, ThresholdChoice } from '../common/workflow-types';
import { activityLog, nonRetryable, withKeepalive, FAILURE_TYPES } from './context';
import type { ActivityDeps } from './deps';

export interface RefitSummary {
  blob: { id: string; sha256: string; bytes: number };
  metrics: Record<string, number>;
  fitMs: number;
}

/** Holdout rows the run page's mean |contribution| is computed on. */
export const CONTRIBUTION_ROWS = 200;

/** Sorted sample of a score distribution (at most `points` values, ends included), for percentiles. */
export function scoreQuantiles(p: Float64Array, points = 1001): number[] {
  const s = Float64Array.from(p).sort();
  if (s.length <= points) return Array.from(s);
  return Array.from({ length: points }, (_, i) => s[Math.round((i * (s.length - 1)) / (points - 1))]!);
}

/**
 * The holdout's (calibrated p, label) pairs for the audience figures' observed side, sorted by p
 * descending: all of them up to `max`, else every k-th by rank (a systematic sample keeps the
 * gains curve's shape; `n` says how many users it stands for).
 */
export function holdoutSample(p: Float64Array, y: Uint8Array, max = 5000): { n: number; p: number[]; y: number[] } {
  const order = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]! || a - b);
  const take = order.length <= max ? order : Array.from({ length: max }, (_, i) => order[Math.floor((i * order.length) / max)]!);
  return { n: p.length, p: take.map((i) => p[i]!), y: take.map((i) => y[i]!) };
}

/**
 * Holdout metrics as flat snake_case numbers (registry, gate, pages, status JSON), including the
 * calibration figures (ECE over 10 equal-mass bins, mean predicted probability next to the base
 * rate) and precision at the target recall (the operating point the model is chosen for).
 */
export function holdoutMetrics(y: Uint8Array, p: Float64Array, threshold: number, targetRecall: number): { flat: Record<string, number>; evaluation: BinaryEvaluation; reliability: ReliabilityCurve } {
  const ev = evaluateBinary(y, p, threshold);
  const par = precisionAtRecall(y, p, targetRecall);
  return {
    evaluation: ev,
    reliability: reliabilityCurve(y, p, ECE_BINS),
    flat: {
      ...flatMetrics(ev),
      precision_at_target_recall: par.precision,
      target_recall: targetRecall,
      ece: expectedCalibrationError(y, p, ECE_BINS),
      mean_probability: meanProbability(p),
    },
  };
}

/** Equal-mass bins for ECE and the reliability curve: 10, the common choice (Guo et al. 2017 use 15 equal-width; equal mass keeps every bin's noise alike). */
export const ECE_BINS = 10;

/** The refit's forest from its stored tree shards, in shard order (each checked against its sha256). */
async function mergeShards(db: ActivityDeps['db'], shards: { id: string; sha256: string }[], options: object, cols: number): Promise<RandomForest> {
  const trees: TreeArrays[] = [];
  for (const s of shards) trees.push(...treesFromArrays(unpackArrays(await getBlob(db, BUCKETS.models, s.id, s.sha256)).arrays, cols));
  try {
    return forestFromTrees(options, cols, trees);
  } catch (err) {
    throw nonRetryable(FAILURE_TYPES.badConfig, err);
  }
}

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

/** One tree shard of a refit: which trees, where they are stored, who grew them and how long it took. */
export interface TreeShardSummary {
  index: number;
  count: number;
  from: number;
  to: number;
  blob: { id: string; sha256: string; bytes: number };
  fitMs: number;
  workerIdentity: string;
}

interface RefitArgs {
  runId: string;
  datasetId: string;
  params: Params;
  threshold: ThresholdChoice;
  seed: number;
  engine: EngineName;
  targetRecall: number;
  leakageAucBound: number;
  /** Stored tree shards (fitTreeShard, all of them, in order) to merge instead of fitting here. */
  shards?: { id: string; sha256: string }[];
}

const refitOptions = (args: { params: Params; engine: EngineName; seed: number }) => ({ ...paramsToOptions(args.params, args.engine), seed: args.seed });

export function createEvaluationActivities({ db, workerIdentity }: ActivityDeps) {
  return {
    /**
     * Grows shard `index` of `count` of the refit's forest (a contiguous range of tree indices, each
     * tree seeded from (seed, index)) and stores its trees under (run, index, count). A retry after
     * success returns the stored shard; a retry mid-fit grows the shard again (same trees).
     */
    async fitTreeShard(args: { runId: string; datasetId: string; params: Params; seed: number; engine: EngineName; index: number; count: number }): Promise<TreeShardSummary> {
      const id = `run:${args.runId}:shard:${args.index}of${args.count}`;
      const stored = await getBlob(db, BUCKETS.models, id).catch((err: unknown) => {
        if (err instanceof BlobNotFoundError) return null;
        throw err;
      });
      if (stored) {
        const meta = unpackArrays(stored).meta as Omit<TreeShardSummary, 'blob'>;
        return { ...meta, blob: { id, sha256: sha256(stored), bytes: stored.byteLength } };
      }
      if (args.engine !== ENGINES.retail24) throw nonRetryable(FAILURE_TYPES.badConfig, new Error(`tree shards need the retail24 engine, the run uses ${args.engine}`));
      const view = await trainView(db, args.datasetId);
      const opts = refitOptions(args);
      let range: { from: number; to: number };
      try {
        range = shardRange(resolveForestOptions(opts).nEstimators, args.index, args.count);
      } catch (err) {
        throw nonRetryable(FAILURE_TYPES.badConfig, err);
      }
      const t0 = Date.now();
      const trees = await withKeepalive({ shard: args.index, stage: 'fitting' }, (beat) => fitTreeRange(view.X, view.y, opts, range, {
        onProgress: (d: number, t: number) => beat({ treesDone: d, trees: t, shard: args.index }),
        onWarning: (m: string) => activityLog().warn(m),
      }, view.rows));
      const meta: Omit<TreeShardSummary, 'blob'> = { index: args.index, count: args.count, ...range, fitMs: Date.now() - t0, workerIdentity };
      const blob = await withKeepalive({ shard: args.index, stage: 'storing' }, () => putBlob(db, BUCKETS.models, id, packArrays(treesToArrays(trees, view.X.cols), { ...meta }), { runId: args.runId, shard: args.index }));
      return { ...meta, blob };
    },

    /**
     * Refits the chosen parameters on the whole training split with the run's engine, attaches the
     * calibrator fitted on out-of-fold predictions (selectBest), evaluates the calibrated model on
     * the holdout at the chosen threshold and stores the model blob under the run id. Also records
     * each feature's single-feature AUC on the training split (the leakage guard). A retry after
     * success returns the stored result; a retry mid-fit restarts the fit (same seed, same model).
     * With `shards` the forest is the stored tree shards merged in order, bit-identical to the fit.
     */
    async refitAndEvaluate(args: RefitArgs): Promise<RefitSummary> {
      const run = await getRun(db, args.runId);
      if (run?.refit) return run.refit as RefitSummary;
      const calibrator: Calibrator = (run?.calibrator as Calibrator | undefined) ?? { kind: 'identity' };
      const ds = await loadDataset(db, args.datasetId);
      if (!ds) throw nonRetryable(FAILURE_TYPES.notFound, new Error(`dataset ${args.datasetId} not found`));
      const { y, train, holdout } = ds.arrays;
      const cols = ds.doc.cols;
      // the whole matrix, read at the training and holdout rows in place (no copy of either)
      const X = { data: ds.arrays.X, rows: ds.doc.rows, cols };
      const t0 = Date.now();
      const yTrain = takeLabels(y, train);
      const forest = args.shards?.length
        ? await mergeShards(db, args.shards, refitOptions(args), cols)
        : await withKeepalive({ stage: 'fitting' }, (beat) => fitEngine(args.engine, X, yTrain, refitOptions(args), {
          onProgress: (d: number, t: number) => beat({ treesDone: d, trees: t }),
          onWarning: (m: string) => activityLog().warn(m),
        }, train));
      const fitMs = Date.now() - t0;
      const yh = takeLabels(y, holdout);
      const raw = predictProbaAt(forest, X, holdout);
      const proba = applyCalibratorBatch(calibrator, raw);
      const { flat, evaluation, reliability } = holdoutMetrics(yh, proba, args.threshold.threshold, args.targetRecall);
      const rawMetrics = { roc_auc: rocAuc(yh, raw), ece: expectedCalibrationError(yh, raw, ECE_BINS), mean_probability: meanProbability(raw) };
      const importances = forest.featureImportances();
      // Global mean |contribution| (exact TreeSHAP) on the first holdout rows, next to impurity importance:
      // 200 rows bound the cost (≈ 40 ms each for 200 trees of depth 12) and the mean's noise alike.
      const nContrib = Math.min(CONTRIBUTION_ROWS, holdout.length);
      const contributions = forest instanceof RandomForest && nContrib > 0 ? meanAbsContributions(forest, selectRows(X, holdout.subarray(0, nContrib))) : null;
      const aucs = singleFeatureAuc(X.data, X.rows, cols, yTrain, train);
      const singleAuc = ds.doc.names.map((name, i) => ({ name, auc: aucs[i]! })).sort((a, b) => b.auc - a.auc);
      const leakage = singleAuc.filter((f) => f.auc > args.leakageAucBound).map((f) => ({
        ...f, message: `${f.name} alone predicts the label (single-feature AUC ${f.auc.toFixed(3)} > ${args.leakageAucBound}): is it known before the purchase?`,
      }));
      const buf = serializeModel(forest, { featureNames: ds.doc.names, featureSpec: ds.doc.spec, calibrator });
      const blob = await withKeepalive({ stage: 'storing' }, () => putBlob(db, BUCKETS.models, `run:${args.runId}`, buf, { runId: args.runId }));
      const refit: RefitSummary = { blob, metrics: flat, fitMs };
      await patchRun(db, args.runId, {
        refit,
        evaluation,
        reliability,
        uncalibrated: rawMetrics,
        scoreQuantiles: scoreQuantiles(proba),
        holdoutSample: holdoutSample(proba, yh),
        singleFeatureAuc: singleAuc.slice(0, 10),
        leakage,
        featureContributions: contributions ? { method: contributions.method, rows: nContrib, values: ds.doc.names.map((name, i) => ({ name, meanAbs: contributions.meanAbs[i]! })).sort((a, b) => b.meanAbs - a.meanAbs) } : null,
        featureImportances: importances ? ds.doc.names.map((name, i) => ({ name, importance: importances[i]! })).sort((a, b) => b.importance - a.importance) : [],
      });
      return refit;
    },
  };
}
