/**
 * Registers real, small production models without running Temporal: reads the bundled sample
 * through the ingest reader, fits the frozen feature spec and retail24's forest, evaluates on a
 * holdout, stores the blob in GridFS and the version in the registry, exactly in the shapes the
 * training pipeline writes. API tests and the predict benchmark use it; the pipeline itself is
 * tested in test/workflows/.
 */
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from 'mongodb';
import { readUserLogs } from '../data/csv-reader';
import { fitFeatureSpec, transformBatch } from '../data/features';
import { LABEL_WINDOW_MS, type UserRecord } from '../data/record';
import { fitRandomForest } from '../ml/forest';
import { serializeModel } from '../ml/serialize';
import { evaluateBinary } from '../ml/metrics';
import { referenceHistograms } from '../ml/drift';
import { putBlob } from '../store/blobs';
import { BUCKETS, ensureIndexes } from '../store/collections';
import { saveDataset } from '../store/datasets';
import { registerVersion, setAlias, type ModelVersionDoc } from '../store/registry';
import { writeUserChunk } from '../store/users';
import { patchRun } from '../store/runs';
import { holdoutSample, scoreQuantiles } from '../activities/evaluation';

export const SAMPLE_CSV = fileURLToPath(new URL('../sample/users.csv', import.meta.url));
export const DRIFT_CSV = fileURLToPath(new URL('../sample/drift.csv', import.meta.url));

/** Valid users of a raw-log CSV, in file order. */
export async function readUsers(file: string, limit = Infinity): Promise<UserRecord[]> {
  const out: UserRecord[] = [];
  for await (const row of readUserLogs(createReadStream(file), { fileName: file })) {
    if (row.kind === 'ok') out.push(row.record);
    if (out.length >= limit) break;
  }
  return out;
}

export interface FixtureModelOptions {
  modelName: string;
  /** @default 20 */
  nEstimators?: number;
  /** @default 8 */
  maxDepth?: number;
  /** @default 42 */
  seed?: number;
  /** Point `production` here after registering. @default true */
  promote?: boolean;
}

/**
 * Fits and registers one version on the sample (80 / 20 split by position), with a dataset
 * snapshot (reference histograms for the drift page) and a completed run document.
 */
export async function registerFixtureModel(db: Db, opts: FixtureModelOptions, users?: UserRecord[]): Promise<ModelVersionDoc> {
  await ensureIndexes(db);
  const all = (users ?? (await readUsers(SAMPLE_CSV))).filter((u) => u.label !== null);
  const nTrain = Math.floor(all.length * 0.8);
  const spec = fitFeatureSpec(all.slice(0, nTrain));
  const cols = spec.names.length;
  const X = transformBatch(spec, all);
  const y = Uint8Array.from(all, (u) => u.label ?? 0);
  const seed = opts.seed ?? 42;
  const params = { nEstimators: opts.nEstimators ?? 20, maxDepth: opts.maxDepth ?? 8 };
  const model = await fitRandomForest({ data: X.subarray(0, nTrain * cols), rows: nTrain, cols }, y.subarray(0, nTrain), { ...params, seed, classWeight: 'balanced' });
  const nHold = all.length - nTrain;
  const p = model.predictProba({ data: X.subarray(nTrain * cols), rows: nHold, cols });
  const threshold = 0.5;
  const ev = evaluateBinary(y.subarray(nTrain), p, threshold);
  const runId = `fixture-${opts.modelName}-${seed}-${params.nEstimators}-${Date.now()}`;
  const datasetId = `ds-${runId}`;
  await saveDataset(db, {
    _id: datasetId, spec, names: spec.names, rows: all.length, cols, labelRate: ev.baseRate, trainRows: nTrain, holdoutRows: nHold,
    splitStrategy: 'position', holdoutFraction: 0.2, seed, referenceHistograms: referenceHistograms(spec.names, X.subarray(0, nTrain * cols), nTrain),
    usersAtSnapshot: all.length, matured: all.length, pending: 0, timezone: spec.timezone, timezones: [spec.timezone],
    trainFingerprint: `fixture-${runId}`, latestFirstOpen: all.reduce((m, u) => Math.max(m, u.firstOpen), 0), createdAt: new Date(),
  }, {
    X, y, train: Int32Array.from({ length: nTrain }, (_, i) => i), holdout: Int32Array.from({ length: nHold }, (_, i) => nTrain + i),
    holdoutUserIds: all.slice(nTrain).map((u) => u.userId), trainUserIds: all.slice(0, nTrain).map((u) => u.userId),
  });
  const blob = await putBlob(db, BUCKETS.models, `run:${runId}`, serializeModel(model, { featureNames: spec.names, featureSpec: spec }));
  const imp = model.featureImportances();
  const metrics = { roc_auc: ev.rocAuc, average_precision: ev.averagePrecision, precision: ev.precision, recall: ev.recall, f1: ev.f1, accuracy: (ev.tp + ev.tn) / ev.n };
  const doc = await registerVersion(db, {
    modelName: opts.modelName, runId, datasetId, engine: 'retail24', params, scoring: 'recall',
    cvTable: [{ cellKey: JSON.stringify(params), params, mean: ev.recall, std: 0, fitMs: 0, folds: 1 }],
    threshold: { threshold, precision: ev.precision, recall: ev.recall, f1: ev.f1, precisionAtDefault: ev.precision, precisionCost: 0, reachable: true },
    metrics, confusion: { tp: ev.tp, fp: ev.fp, tn: ev.tn, fn: ev.fn },
    curves: { roc: { fpr: ev.rocCurve.fpr, tpr: ev.rocCurve.tpr }, pr: { precision: ev.prCurve.precision, recall: ev.prCurve.recall } },
    featureImportances: spec.names.map((name, i) => ({ name, importance: imp[i]! })).sort((a, b) => b.importance - a.importance),
    featureNames: spec.names, blob, timings: {}, trigger: 'manual', reason: 'test fixture', status: 'candidate', createdAt: new Date(),
    holdoutSample: holdoutSample(p, y.subarray(nTrain)), scoreQuantiles: scoreQuantiles(p),
  });
  await patchRun(db, runId, { modelName: opts.modelName, trigger: 'manual', reason: 'test fixture', status: 'completed', stage: 'done', finishedAt: new Date() });
  if (opts.promote ?? true) await setAlias(db, opts.modelName, 'production', doc.version, { by: 'test', reason: `fixture v${doc.version}` });
  return doc;
}

/** Stores users as if ingested now (after any snapshot), for the drift page; observed once every window has closed. */
export async function ingestUsers(db: Db, users: UserRecord[], batchId = `batch-${Date.now()}`): Promise<void> {
  const asOf = users.reduce((m, u) => Math.max(m, u.firstOpen + LABEL_WINDOW_MS, u.purchaseDate ?? 0), 0);
  for (let i = 0; i < users.length; i += 1000) await writeUserChunk(db, batchId, users.slice(i, i + 1000), new Date(), asOf);
}
