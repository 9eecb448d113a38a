import { log, patched, proxyActivities, setHandler, workflowInfo, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CellResult, CellTask, PipelineProgress, PipelineResult, TrainingPipelineInput } from '../common/workflow-types';
import { NON_RETRYABLE } from '../common/errors';
import { SEARCH_ATTRIBUTES } from '../common/constants';
import { progressQuery } from '../common/messages';
import { refitShardCount } from '../common/shards';
import { runBounded } from './bounded';
import { requestScoring } from './score-new-users';

const retry = { initialInterval: '1s', maximumInterval: '30s', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE };

// Timeouts sized from bench/ (a 200-tree depth-12 fit on 200k rows takes well under 10 min on
// 2 cores); heartbeats come per tree or per 20k rows, so 30 s without one means a dead worker (and a retry starts that soon after a crash).
const quick = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry });
const heavy = proxyActivities<Activities>({ startToCloseTimeout: '60 minutes', heartbeatTimeout: '30 seconds', retry });
// Tree shards go through the server's matching, never eagerly to the worker that completed the
// workflow task: eager dispatch hands every shard to that one worker while it has free slots
// (a CI run did exactly that: two shards, one worker), which defeats spreading the fit.
const spread = proxyActivities<Activities>({ startToCloseTimeout: '60 minutes', heartbeatTimeout: '30 seconds', retry, allowEagerDispatch: false });

/**
 * ingest (optional) → snapshot → grid search (one activity per params × fold cell, bounded
 * concurrency, so every worker on the queue shares them) → threshold → refit (optionally as tree
 * shards, one activity each, merged) + holdout
 * evaluation → register → promotion gate.
 */
export async function trainingPipeline(input: TrainingPipelineInput): Promise<PipelineResult> {
  const runId = workflowInfo().workflowId;
  const { settings } = input;
  const progress: PipelineProgress = { stage: 'starting', cellsDone: 0, cellsTotal: 0, bestSoFar: null };
  setHandler(progressQuery, () => progress);
  upsertSearchAttributes({ [SEARCH_ATTRIBUTES.modelName]: [settings.modelName], [SEARCH_ATTRIBUTES.triggerReason]: [input.trigger] });
  const stage = async (s: PipelineProgress['stage'], patch: Record<string, unknown> = {}) => {
    progress.stage = s;
    await quick.recordRun({ runId, patch: { stage: s, ...patch } });
  };
  const t = (start: number) => Date.now() - start; // workflow time: deterministic, replay-safe

  try {
    await stage('starting', { modelName: settings.modelName, trigger: input.trigger, reason: input.reason, requestedBy: input.requestedBy ?? null, status: 'running', settings, startedAt: new Date() });
    let ingest = null;
    if (input.ingest) {
      await stage('ingest');
      ingest = await heavy.ingestUpload(input.ingest);
    }
    await stage('snapshot', { ingest });
    const t0 = Date.now();
    const snapshot = await heavy.buildSnapshot(settings);
    await stage('grid-search', { snapshot });

    const t1 = Date.now();
    const cells = await quick.planGrid({
      runId, datasetId: snapshot.datasetId, grid: settings.paramGrid, folds: settings.folds, seed: settings.seed, classWeight: settings.classWeight,
      engine: settings.engine, scoring: settings.scoring, targetRecall: settings.targetRecall,
    });
    progress.cellsTotal = cells.length;
    const results = await runBounded(cells, settings.gridConcurrency, async (cell: CellTask) => {
      const r: CellResult = await heavy.runCvCell(cell);
      progress.cellsDone++;
      if (!progress.bestSoFar || r.score > progress.bestSoFar.score) progress.bestSoFar = { cellKey: r.cellKey, score: r.score };
      return r;
    });
    const gridMs = t(t1);
    await stage('threshold', { cells: results.map((r) => ({ cellKey: r.cellKey, foldIndex: r.foldIndex, score: r.score, fitMs: r.fitMs, workerIdentity: r.workerIdentity })) });
    const selection = await heavy.selectBest({ runId, datasetId: snapshot.datasetId, targetRecall: settings.targetRecall, calibration: settings.calibration });
    await stage('refit', { selection });
    const fit = { runId, datasetId: snapshot.datasetId, params: selection.bestParams, seed: settings.seed, engine: settings.engine };
    // tree shards: one activity per range of trees, so one large fit spreads over every worker
    // (patched: runs recorded before shards existed replay without them)
    const nTrees = typeof fit.params.nEstimators === 'number' ? fit.params.nEstimators : Infinity;
    const count = patched('refit-shards') ? refitShardCount(settings, snapshot.trainRows, new Set(results.map((r) => r.workerIdentity)).size, nTrees) : 1;
    let shards: { id: string; sha256: string }[] | undefined;
    if (count > 1) {
      const done = await Promise.all(Array.from({ length: count }, (_, index) => spread.fitTreeShard({ ...fit, index, count })));
      await quick.recordRun({ runId, patch: { refitShards: done } });
      shards = done.map((s) => ({ id: s.blob.id, sha256: s.blob.sha256 }));
    }
    await heavy.refitAndEvaluate({ ...fit, threshold: selection.threshold, targetRecall: settings.targetRecall, leakageAucBound: settings.leakageAucBound, ...(shards ? { shards } : {}) });
    await stage('register');
    const version = await quick.registerCandidate({ runId, modelName: settings.modelName, datasetId: snapshot.datasetId, selection, settings, trigger: input.trigger, reason: input.reason, timings: { snapshotAndGridMs: t(t0), gridMs } });
    upsertSearchAttributes({ [SEARCH_ATTRIBUTES.modelVersion]: [version.version] });
    await stage('promotion', { version });
    const promotion = await heavy.promotionGate({ modelName: settings.modelName, version: version.version, runId, settings });
    upsertSearchAttributes({ [SEARCH_ATTRIBUTES.outcome]: [promotion.promoted ? 'promoted' : 'rejected'] });
    log.info(promotion.promoted ? 'candidate promoted' : 'candidate kept, production stays', { modelName: settings.modelName, version: version.version, reason: promotion.reason });
    // production moved: users still inside their window are re-scored by the new version
    // (patched: runs recorded before this step existed replay without it)
    if (promotion.promoted && settings.scoreOnPromotion !== false && patched('score-after-promotion')) await requestScoring(settings.modelName, `promotion v${version.version}`);
    progress.stage = 'done';
    await quick.recordRun({ runId, patch: { stage: 'done', status: 'completed', promotion, finishedAt: new Date(), durationMs: t(t0) } });
    const { cvTable: _cv, ...selectionSummary } = selection;
    return { runId, ingest, snapshot, selection: selectionSummary, version, promotion };
  } catch (err) {
    progress.stage = 'failed';
    upsertSearchAttributes({ [SEARCH_ATTRIBUTES.outcome]: ['failed'] });
    const message = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    await quick.recordRun({ runId, patch: { status: 'failed', error: message, finishedAt: new Date() } });
    throw err;
  }
}
