/**
 * Measurements behind issue 9's decisions, in process with the pipeline's own code:
 *
 *   npx tsx bench/decisions.ts grid [--users 50000]          seed grid + recall@0.5 vs default grid + precision at recall 0.9
 *   npx tsx bench/decisions.ts promotion [--seeds 5] [--users 20000]
 *                                                             how often a candidate trained on +10 % data of the same
 *                                                             distribution is promoted: first round's gate vs `better` vs `non-inferior`
 *
 * Writes bench/results/decisions-<part>.json. Timings are this machine's (load average recorded).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { PARAM_GRID_PRESETS } from '../config';
import { stratifiedKFold } from '../ml/cv';
import { chooseCell, expandGrid, paramsToOptions, runCvCell, summariseCells, type ParamGrid, type Scoring } from '../ml/grid';
import { fitRandomForest, type ForestOptions } from '../ml/forest';
import { applyCalibratorBatch, expectedCalibrationError, fitCalibrator, meanProbability } from '../ml/calibration';
import { pairedBootstrap, precisionAtRecall } from '../ml/compare';
import { chooseThreshold } from '../ml/threshold';
import { confusionAt, precisionRecallF1, rocAuc } from '../ml/metrics';
import type { Matrix } from '../ml/matrix';
import { decidePromotion } from '../activities/promotion';
import { seededRng } from '../ml/rng';
import type { PromotionPolicy } from '../common/workflow-types';
import type { UserRecord } from '../data/record';
import { featurise, generatedUsers, hashSplit } from './decisions-data';
import { intFlag, scriptArgs, UsageError } from '../cli/args';

const TARGET = 0.9;
const threads = availableParallelism();

async function oofOf(X: Matrix, y: Uint8Array, params: Partial<ForestOptions>, folds: Int32Array, k: number): Promise<Float64Array> {
  const oof = new Float64Array(y.length);
  for (let f = 0; f < k; f++) {
    const r = await runCvCell({ X, y, folds, foldIndex: f, params: { ...params, nThreads: threads }, scoring: 'roc_auc' });
    for (let i = 0; i < r.testIndices.length; i++) oof[r.testIndices[i]!] = r.testProba[i]!;
  }
  return oof;
}

async function gridRun(label: string, grid: ParamGrid, scoring: Scoring, train: Matrix, y: Uint8Array, hold: Matrix, yh: Uint8Array, oneSe: boolean) {
  const k = 3;
  const folds = stratifiedKFold(y, k, 42);
  const t0 = performance.now();
  const results = [];
  for (const p of expandGrid(grid)) {
    const params = { ...p, classWeight: 'balanced' };
    for (let f = 0; f < k; f++) {
      const r = await runCvCell({ X: train, y, folds, foldIndex: f, params: { ...paramsToOptions(params), nThreads: threads }, scoring, targetRecall: TARGET, seed: 42 });
      results.push({ params, score: r.score, fitMs: r.fitMs, metrics: r.metrics });
    }
  }
  const gridS = (performance.now() - t0) / 1000;
  const summaries = summariseCells(results);
  const chosen = oneSe ? chooseCell(summaries).chosen : summaries[0]!;
  const params = { ...paramsToOptions(chosen.params), seed: 42, nThreads: threads };
  const oof = await oofOf(train, y, params, folds, k);
  const model = await fitRandomForest(train, y, params);
  const raw = model.predictProba(hold);
  const cal = fitCalibrator(oof, y);
  const p = applyCalibratorBatch(cal, raw);
  return {
    label, scoring, grid, cells: summaries.length, grid_s: gridS, chosen: chosen.params,
    cv_table: summaries.map((s) => ({ params: s.params, mean: s.meanScore, std: s.stdScore, oof_roc_auc: s.meanMetrics.roc_auc, prec_at_recall: s.meanMetrics.precision_at_target_recall })),
    holdout: {
      roc_auc: rocAuc(yh, p), roc_auc_raw: rocAuc(yh, raw), precision_at_recall_0_9: precisionAtRecall(yh, p, TARGET).precision,
      ece: expectedCalibrationError(yh, p), ece_raw: expectedCalibrationError(yh, raw), mean_p: meanProbability(p), mean_p_raw: meanProbability(raw),
      base_rate: yh.reduce((a, b) => a + b, 0) / yh.length, n: yh.length, calibrator: cal.kind,
    },
  };
}

async function gridBench(users: number) {
  const all = await generatedUsers({ users, seed: 42 });
  const { train, holdout } = hashSplit(all);
  const tr = featurise(train, train);
  const ho = featurise(holdout, [], tr.spec);
  const load = [loadavg()[0]];
  const before = await gridRun('first round: seed grid, recall at 0.5, best mean', PARAM_GRID_PRESETS.seed, 'recall', tr.X, tr.y, ho.X, ho.y, false);
  const after = await gridRun('default grid, precision at recall 0.9, one-standard-error rule', PARAM_GRID_PRESETS.default, 'precision_at_target_recall', tr.X, tr.y, ho.X, ho.y, true);
  load.push(loadavg()[0]);
  return { users: all.length, train: train.length, holdout: holdout.length, threads, load_average: load, runs: [before, after], grid_time_ratio: after.grid_s / before.grid_s };
}

/** The first round's stratified split, re-drawn per snapshot with one seed (data/split.ts before issue 9). */
function legacyStratifiedSplit(y: Uint8Array, fraction: number, seed: number): { train: number[]; holdout: number[] } {
  const rng = seededRng(seed);
  const isHold = new Uint8Array(y.length);
  for (const cls of [0, 1]) {
    const members: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === cls) members.push(i);
    for (let i = members.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    const k = Math.min(members.length - 1, Math.max(1, Math.round(members.length * fraction)));
    for (let i = 0; i < k; i++) isHold[members[i]!] = 1;
  }
  const train: number[] = [], holdout: number[] = [];
  for (let i = 0; i < y.length; i++) (isHold[i] ? holdout : train).push(i);
  return { train, holdout };
}

const PARAMS: Partial<ForestOptions> = { nEstimators: 100, maxDepth: 12, minSamplesLeaf: 5, classWeight: 'balanced', seed: 42 };

async function fitWithThreshold(users: UserRecord[]) {
  const f = featurise(users, users);
  const folds = stratifiedKFold(f.y, 3, 42);
  const oof = await oofOf(f.X, f.y, PARAMS, folds, 3);
  const model = await fitRandomForest(f.X, f.y, { ...PARAMS, nThreads: threads });
  const cal = fitCalibrator(oof, f.y);
  const threshold = chooseThreshold(f.y, applyCalibratorBatch(cal, oof), TARGET).threshold;
  const score = (us: readonly UserRecord[]) => applyCalibratorBatch(cal, model.predictProba(featurise(us, [], f.spec).X));
  return { score, threshold };
}

function atThreshold(y: Uint8Array, p: Float64Array, t: number) {
  const m = precisionRecallF1(confusionAt(y, p, t));
  return { ...m, auc: rocAuc(y, p) };
}

interface Trial {
  seed: number;
  first_round: { promoted: boolean; [k: string]: unknown };
  better: { verdict: string };
  non_inferior: { verdict: string };
  [k: string]: unknown;
}

async function promotionBench(seeds: number, users: number) {
  const policy = (rule: PromotionPolicy['rule']): PromotionPolicy => ({ rule, margin: 0.02, aucMargin: 0.01, minAuc: 0.6, minUsers: 200, minPositives: 30, resamples: 1000 });
  const trials: Trial[] = [];
  const load = [loadavg()[0]];
  for (let s = 1; s <= seeds; s++) {
    const all = await generatedUsers({ users, seed: 100 + s });
    const prodUsers = all.slice(0, Math.round(users / 1.1)); // the candidate has 10 % more of the same distribution
    const fresh = await generatedUsers({ users: 50_000, seed: 9000 + s, firstId: 5_000_000 });
    const yFresh = Uint8Array.from(fresh, (u) => u.label ?? 0);

    // Issue 9's gate: stable hash holdout, paired bootstrap on users neither model trained on.
    const prodSplit = hashSplit(prodUsers), candSplit = hashSplit(all);
    const [prodNew, candNew] = [await fitWithThreshold(prodSplit.train), await fitWithThreshold(candSplit.train)];
    const y = Uint8Array.from(candSplit.holdout, (u) => u.label ?? 0);
    const b = pairedBootstrap(y, candNew.score(candSplit.holdout), prodNew.score(candSplit.holdout), { targetRecall: TARGET, resamples: 1000, seed: 42 });
    const truth = {
      candidate: precisionAtRecall(yFresh, candNew.score(fresh), TARGET).precision, production: precisionAtRecall(yFresh, prodNew.score(fresh), TARGET).precision,
      candidate_auc: rocAuc(yFresh, candNew.score(fresh)), production_auc: rocAuc(yFresh, prodNew.score(fresh)),
    };

    // The first round's gate: per-snapshot stratified re-split, production re-scored on the
    // candidate's holdout (partly its own training rows), recall ≥, F1 ≥ −0.01, better on one.
    const yOf = (us: UserRecord[]) => Uint8Array.from(us, (u) => u.label ?? 0);
    const ls = (us: UserRecord[]) => { const sp = legacyStratifiedSplit(yOf(us), 0.2, 42); return { train: sp.train.map((i) => us[i]!), holdout: sp.holdout.map((i) => us[i]!) }; };
    const [pOld, cOld] = [ls(prodUsers), ls(all)];
    const [prodOld, candOld] = [await fitWithThreshold(pOld.train), await fitWithThreshold(cOld.train)];
    const yh = yOf(cOld.holdout);
    const m = atThreshold(yh, candOld.score(cOld.holdout), candOld.threshold);
    const p = atThreshold(yh, prodOld.score(cOld.holdout), prodOld.threshold);
    const prodTrainIds = new Set(pOld.train.map((u) => u.userId));
    const overlap = cOld.holdout.filter((u) => prodTrainIds.has(u.userId)).length / cOld.holdout.length;
    const oldPromoted = m.recall >= p.recall && m.f1 >= p.f1 - 0.01 && (m.recall > p.recall || m.f1 > p.f1 || m.auc > p.auc);

    trials.push({
      seed: 100 + s, production_users: prodUsers.length, candidate_users: all.length,
      first_round: { promoted: oldPromoted, candidate: m, production: p, holdout_overlap_with_production_training: overlap },
      paired: { n: b.n, positives: b.positives, diff: b.diff, interval: b.interval },
      better: decidePromotion(b, policy('better'), true), non_inferior: decidePromotion(b, policy('non-inferior'), true),
      truth_on_50k_fresh_users: { ...truth, diff_precision: truth.candidate - truth.production, diff_auc: truth.candidate_auc - truth.production_auc },
    });
    console.error(`seed ${100 + s}: first round ${oldPromoted ? 'promoted' : 'rejected'}, better ${trials.at(-1)!.better.verdict}, non-inferior ${trials.at(-1)!.non_inferior.verdict}; true Δprec ${(truth.candidate - truth.production).toFixed(4)}`);
  }
  load.push(loadavg()[0]);
  const rate = (f: (t: Trial) => boolean) => trials.filter(f).length / trials.length;
  return {
    seeds, users, load_average: load, trials,
    promoted_share: { first_round: rate((t) => t.first_round.promoted), better: rate((t) => t.better.verdict === 'promoted'), non_inferior: rate((t) => t.non_inferior.verdict === 'promoted') },
  };
}

async function main() {
  const usage = 'bench/decisions.ts grid|promotion [--users N] [--seeds N]';
  const a = scriptArgs({ users: 'string', seeds: 'string' }, usage);
  const part = a.positional[0];
  let result: unknown;
  if (part === 'grid') result = await gridBench(intFlag(a, 'users', 50_000, 100, 10_000_000));
  else if (part === 'promotion') result = await promotionBench(intFlag(a, 'seeds', 5, 1, 1000), intFlag(a, 'users', 20_000, 100, 10_000_000));
  else throw new UsageError(`usage: ${usage}`);
  const dir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `decisions-${part}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, (k, v) => (k === 'cv_table' || k === 'trials' ? undefined : v), 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
