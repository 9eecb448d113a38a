import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPipelineHarness, type PipelineHarness } from '../helpers/pipeline';
import { startTestApi, call, TOKEN } from '../api/api-harness';
import { uploadFile } from '../../store/uploads';
import { trainingSettings } from '../../config';
import { WORKFLOW_TYPES, trainingWorkflowId } from '../../common/constants';
import { getVersion } from '../../store/registry';
import { loadDataset, loadDatasetUsers } from '../../store/datasets';
import { loadVersion } from '../../store/model-loader';
import { COLLECTIONS } from '../../store/collections';
import { generateToFiles } from '../../data/generator';
import type { PipelineResult, TrainingPipelineInput, TrainingSettings } from '../../common/workflow-types';
import type { RunningApi } from '../../api/server';

/**
 * The training decisions of issue 9 through the real path (ingest → snapshot → grid → refit →
 * gate on the Temporal dev server and the MongoDB-protocol server), each in the scenario that
 * fooled the first round's rule.
 */
let h: PipelineHarness;
/** A second database: the users collection is shared by every model of one deployment, so the leaky export gets its own. */
let h2: PipelineHarness;
const tmp = mkdtempSync(join(tmpdir(), 'retail24-decisions-'));
let csvAll: string;
let csvSubset: string;
let csvLeaky: string;

let cand: PipelineResult;
let leaky: PipelineResult;
let leakyRunId: string;

async function run(h: PipelineHarness, file: string, opts: { mapping?: unknown; settings?: Partial<TrainingSettings>; modelName: string }): Promise<{ id: string; result: PipelineResult }> {
  const up = await uploadFile(h.store.db, file);
  const settings = { ...trainingSettings(h.config), modelName: opts.modelName, ...opts.settings };
  const input: TrainingPipelineInput = { settings, trigger: 'manual', reason: 'test', ingest: { uploadId: up.uploadId, fileName: up.fileName, rejectLimit: 0.05, mapping: opts.mapping } };
  const id = trainingWorkflowId(opts.modelName, 'manual', new Date().toISOString());
  const result = (await h.client.workflow.execute(WORKFLOW_TYPES.trainingPipeline, { taskQueue: h.config.TASK_QUEUE, workflowId: id, args: [input] })) as PipelineResult;
  return { id, result };
}

beforeAll(async () => {
  h = await startPipelineHarness(import.meta.url);
  const g = await generateToFiles({ users: 6000, seed: 21, out: join(tmp, 'all.csv') });
  csvAll = g.out;
  const lines = readFileSync(csvAll, 'utf8').trimEnd().split('\n');
  csvSubset = join(tmp, 'subset.csv');
  writeFileSync(csvSubset, `${lines.slice(0, 1 + 4800).join('\n')}\n`); // production's 80 %
  // A leaky pass-through column: 1 exactly when the user bought within 24 h (known only afterwards).
  const truth = new Map(readFileSync(g.truthFile, 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split(',')).map(([id, , label]) => [id!, label!]));
  csvLeaky = join(tmp, 'leaky.csv');
  writeFileSync(csvLeaky, `${lines[0]},coupon_redeemed\n${lines.slice(1, 3001).map((l) => `${l},${truth.get(l.split(',')[0]!)}`).join('\n')}\n`);

  await run(h, csvSubset, { modelName: 'gate' });
  ({ result: cand } = await run(h, csvAll, { modelName: 'gate' }));
  h2 = await startPipelineHarness(`${import.meta.url}-leaky`);
  ({ id: leakyRunId, result: leaky } = await run(h2, csvLeaky, {
    modelName: 'leaky',
    mapping: { features: { coupon_redeemed: 'binary' }, timezone: 'America/New_York' },
    settings: { scoring: 'average_precision' },
  }));
}, 600_000);
afterAll(async () => {
  await h2?.close();
  await h?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a holdout neither model has seen (production on a subset, candidate on a superset)', () => {
  it('when the candidate is compared, then none of its holdout users were production training rows', async () => {
    const [pv, cv] = await Promise.all([getVersion(h.store.db, 'gate', 1), getVersion(h.store.db, 'gate', 2)]);
    const [pd, cd] = await Promise.all([loadDatasetUsers(h.store.db, pv!.datasetId), loadDatasetUsers(h.store.db, cv!.datasetId)]);
    const prodTrain = new Set(pd!.users.trainUserIds);
    // The first round re-split every snapshot with one seed: ~72 % of this holdout was production's training data.
    expect(cd!.users.holdoutUserIds.filter((id) => prodTrain.has(id))).toEqual([]);
    // And every production holdout user is still in the candidate's holdout: a user never changes side.
    const candHold = new Set(cd!.users.holdoutUserIds);
    expect(pd!.users.holdoutUserIds.every((id) => candHold.has(id))).toBe(true);
    expect(cv!.promotion).toMatchObject({ comparedWith: 1, excludedSeenByProduction: 0, sawNewerData: true, n: cand.snapshot.holdoutRows });
    expect(pv!.trainFingerprint).not.toBe(cv!.trainFingerprint);
  });

  it('when the gate decides, then it records both models on the same users with the difference and its interval', async () => {
    const p = (await getVersion(h.store.db, 'gate', 2))!.promotion!;
    expect(p.rule).toBe('non-inferior');
    expect(p.interval!.precision_at_target_recall[0]).toBeLessThanOrEqual(p.diff!.precision_at_target_recall);
    expect(p.interval!.precision_at_target_recall[1]).toBeGreaterThanOrEqual(p.diff!.precision_at_target_recall);
    expect(p.diff!.roc_auc).toBeCloseTo(p.candidate!.roc_auc - p.production!.roc_auc, 12);
    expect(p.resamples).toBe(h.config.PROMOTION_BOOTSTRAP);
    expect(cand.promotion.promoted).toBe(p.verdict === 'promoted');
  });
});

describe('settings, leakage and time zones travel with the run', () => {
  it('when the run asks for average_precision, then every cell is scored by it although the worker is configured otherwise', async () => {
    expect(h2.config.SCORING).toBe('precision_at_target_recall');
    const cells = await h2.store.db.collection(COLLECTIONS.cvCells).find({ runId: leakyRunId }).toArray();
    expect(cells.length).toBeGreaterThan(0);
    for (const c of cells) expect(c.score).toBe(c.metrics.average_precision);
  });

  it('when a pass-through column is the label in disguise, then the run flags it by name', async () => {
    const v = await getVersion(h2.store.db, 'leaky', leaky.version.version);
    expect(v!.leakage!.map((l) => l.name)).toContain('coupon_redeemed');
    expect(v!.leakage![0]!.message).toMatch(/coupon_redeemed alone predicts the label/);
  });

  it('when the mapping says America/New_York, then the spec is in that zone and ingest and /v1/predict build the same vector', async () => {
    const m = await loadVersion(h2.store.db, 'leaky', leaky.version.version);
    expect(m!.spec.timezone).toBe('America/New_York');
    const ds = await loadDataset(h2.store.db, m!.doc.datasetId);
    const { users } = (await loadDatasetUsers(h2.store.db, m!.doc.datasetId))!;
    const line = readFileSync(csvLeaky, 'utf8').split('\n')[1]!;
    const [userId, firstOpen] = line.split(',');
    const i = users.trainUserIds.indexOf(userId!);
    const row = i >= 0 ? ds!.arrays.train[i]! : ds!.arrays.holdout[users.holdoutUserIds.indexOf(userId!)]!;
    const cols = ds!.doc.cols;
    const stored = ds!.arrays.X.subarray(row * cols, (row + 1) * cols);
    // The generator writes UTC wall times; read as New York time they are 5 h later in UTC.
    const hour = Number(firstOpen!.slice(11, 13));
    expect(stored[ds!.doc.names.indexOf('hour_of_day')]).toBe(hour);

    const { api } = await startTestApi(h2.config.MONGODB_DB, { MODEL_NAME: 'leaky', TASK_QUEUE: h2.config.TASK_QUEUE });
    try {
      await api.models.refresh();
      const fields = line.split(',');
      const screens = line.slice(line.indexOf('"') + 1, line.lastIndexOf('"'));
      const body = { user_id: userId, first_open: firstOpen, screen_list: screens, age: fields[fields.length - 6] === '' ? null : Number(fields[fields.length - 6]), coupon_redeemed: Number(fields[fields.length - 1]) };
      const r = await waitForModel(api, body);
      expect(r.status).toBe(200);
      expect(r.json.probability).toBe(m!.model.predictProbaRow(stored));
      expect(r.json.percentile).toBeGreaterThanOrEqual(0);
      expect(r.json.percentile).toBeLessThanOrEqual(100);
    } finally {
      await api.close();
    }
  });
});

async function waitForModel(api: RunningApi, body: unknown) {
  return vi.waitFor(async () => {
    const r = await call(`${api.url}/v1/predict`, { body, token: TOKEN });
    if (r.status === 503) throw new Error('the API never loaded a model');
    return r;
  }, { timeout: 10_000, interval: 100 });
}
