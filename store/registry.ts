import type { Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import type { Params, PromotionRecord, ThresholdChoice, Trigger } from '../common/workflow-types';
import { isDuplicateKey } from './bulk';

export type VersionStatus = 'candidate' | 'production' | 'rejected' | 'archived';

export interface ModelVersionDoc {
  _id: string; // `${modelName}@${version}`
  modelName: string;
  version: number;
  runId: string;
  datasetId: string;
  engine: string;
  params: Params;
  cvTable: { cellKey: string; params: Params; mean: number; std: number; fitMs: number; folds: number; rank?: number; meanMetrics?: Record<string, number>; chosen?: boolean }[];
  scoring: string;
  threshold: ThresholdChoice;
  metrics: Record<string, number>;
  confusion: { tp: number; fp: number; tn: number; fn: number };
  curves: { roc: { fpr: number[]; tpr: number[] }; pr: { precision: number[]; recall: number[] } };
  featureImportances: { name: string; importance: number }[];
  featureNames: string[];
  blob: { id: string; sha256: string; bytes: number };
  timings: Record<string, number>;
  trigger: Trigger;
  reason: string;
  status: VersionStatus;
  gate?: { promoted: boolean; reason: string; comparedWith: number | null; at: Date };
  /** The gate's comparison record. */
  promotion?: PromotionRecord;
  /** Calibration, leakage and selection evidence recorded at registration. */
  calibration?: { kind: string; oof: Record<string, number>; uncalibrated: Record<string, number> };
  reliability?: { meanPredicted: number[]; observedRate: number[]; count: number[] };
  scoreQuantiles?: number[];
  /** Holdout (calibrated p, label) pairs, p descending, at most 5,000 (a rank-systematic sample of `n`): the observed side of audience figures. */
  holdoutSample?: { n: number; p: number[]; y: number[] };
  /** Mean |exact contribution| per feature on `rows` holdout users (ml/explain.ts), next to impurity importance. */
  featureContributions?: { method: string; rows: number; values: { name: string; meanAbs: number }[] };
  leakage?: { name: string; auc: number; message: string }[];
  singleFeatureAuc?: { name: string; auc: number }[];
  selectionRule?: string;
  trainFingerprint?: string;
  createdAt: Date;
}

export interface AliasDoc {
  _id: string; // `${modelName}:${alias}`
  modelName: string;
  alias: string;
  version: number;
  updatedAt: Date;
  updatedBy: string;
  reason: string;
}

export interface AliasHistoryDoc {
  modelName: string;
  alias: string;
  from: number | null;
  to: number;
  by: string;
  reason: string;
  at: Date;
}

/** Thrown when an alias moved under us (compare-and-set failed): someone else promoted first. */
export class AliasConflictError extends Error {
  constructor(readonly modelName: string, readonly alias: string, readonly expected: number | null, readonly actual: number | null) {
    super(`alias ${modelName}:${alias} is at ${actual ?? 'nothing'}, expected ${expected ?? 'nothing'}`);
    this.name = 'AliasConflictError';
  }
}

export class VersionNotFoundError extends Error {
  constructor(readonly modelName: string, readonly version: number) {
    super(`model ${modelName} has no version ${version}`);
    this.name = 'VersionNotFoundError';
  }
}

const versions = (db: Db) => db.collection<ModelVersionDoc>(COLLECTIONS.modelVersions);
const aliases = (db: Db) => db.collection<AliasDoc>(COLLECTIONS.aliases);

/**
 * Registers a version for a run; idempotent by run id (a retried activity gets the version it
 * already created). Versions auto-increment per model; a lost race on the number retries.
 */
export async function registerVersion(db: Db, doc: Omit<ModelVersionDoc, '_id' | 'version'>): Promise<ModelVersionDoc> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const existing = await versions(db).findOne({ modelName: doc.modelName, runId: doc.runId });
    if (existing) return existing;
    const last = await versions(db).find({ modelName: doc.modelName }).sort({ version: -1 }).limit(1).next();
    const version = (last?.version ?? 0) + 1;
    try {
      const full: ModelVersionDoc = { ...doc, _id: `${doc.modelName}@${version}`, version };
      await versions(db).insertOne(full);
      await db.collection(COLLECTIONS.registeredModels).updateOne(
        { _id: doc.modelName as never },
        { $set: { latestVersion: version, updatedAt: doc.createdAt }, $setOnInsert: { createdAt: doc.createdAt } },
        { upsert: true },
      );
      return full;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
  throw new Error(`could not allocate a version number for ${doc.modelName} after 10 attempts`);
}

export async function getVersion(db: Db, modelName: string, version: number): Promise<ModelVersionDoc | null> {
  return versions(db).findOne({ modelName, version });
}

export async function getVersionByRun(db: Db, modelName: string, runId: string): Promise<ModelVersionDoc | null> {
  return versions(db).findOne({ modelName, runId });
}

export async function listVersions(db: Db, modelName: string, limit = 50): Promise<ModelVersionDoc[]> {
  return versions(db).find({ modelName }, { projection: { curves: 0 } }).sort({ version: -1 }).limit(limit).toArray();
}

export async function listModelNames(db: Db): Promise<string[]> {
  return (await db.collection(COLLECTIONS.registeredModels).find().sort({ _id: 1 }).toArray()).map((d) => String(d._id));
}

export async function updateVersionStatus(db: Db, modelName: string, version: number, set: Partial<Pick<ModelVersionDoc, 'status' | 'gate' | 'promotion'>>): Promise<void> {
  await versions(db).updateOne({ modelName, version }, { $set: set });
}

export async function getAlias(db: Db, modelName: string, alias: string): Promise<AliasDoc | null> {
  return aliases(db).findOne({ _id: `${modelName}:${alias}` });
}

export async function listAliases(db: Db, modelName: string): Promise<AliasDoc[]> {
  return aliases(db).find({ modelName }).sort({ alias: 1 }).toArray();
}

/**
 * Moves an alias atomically (one single-document update). With `expect`, it is a
 * compare-and-set: it only moves if the alias still points where the caller last saw it.
 * Moving an alias to where it already points is a no-op (idempotent retries) and not re-logged.
 */
export async function setAlias(
  db: Db,
  modelName: string,
  alias: string,
  version: number,
  opts: { by: string; reason: string; expect?: number | null },
): Promise<{ from: number | null; changed: boolean }> {
  if (!(await getVersion(db, modelName, version))) throw new VersionNotFoundError(modelName, version);
  const _id = `${modelName}:${alias}`;
  const current = await aliases(db).findOne({ _id });
  const from = current?.version ?? null;
  if (from === version) return { from, changed: false };
  if (opts.expect !== undefined && opts.expect !== from) throw new AliasConflictError(modelName, alias, opts.expect, from);
  const now = new Date();
  const set = { modelName, alias, version, updatedAt: now, updatedBy: opts.by, reason: opts.reason };
  if (current) {
    const res = await aliases(db).updateOne({ _id, version: from as number }, { $set: set });
    if (res.matchedCount === 0) {
      const actual = (await aliases(db).findOne({ _id }))?.version ?? null;
      throw new AliasConflictError(modelName, alias, from, actual);
    }
  } else {
    try {
      await aliases(db).insertOne({ _id, ...set });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const actual = (await aliases(db).findOne({ _id }))?.version ?? null;
      if (actual !== version) throw new AliasConflictError(modelName, alias, null, actual);
      return { from: null, changed: false };
    }
  }
  await db.collection<AliasHistoryDoc>(COLLECTIONS.aliasHistory).insertOne({ modelName, alias, from, to: version, by: opts.by, reason: opts.reason, at: now });
  return { from, changed: true };
}

export async function aliasHistory(db: Db, modelName: string, limit = 50): Promise<AliasHistoryDoc[]> {
  return db.collection<AliasHistoryDoc>(COLLECTIONS.aliasHistory).find({ modelName }).sort({ at: -1 }).limit(limit).toArray();
}
