import type { Db } from 'mongodb';

/** Collection and GridFS bucket names; the only place they are spelled. */
export const COLLECTIONS = {
  users: 'users',
  ingestBatches: 'ingest_batches',
  rejects: 'rejects',
  datasets: 'datasets',
  cvCells: 'cv_cells',
  runs: 'runs',
  registeredModels: 'registered_models',
  modelVersions: 'model_versions',
  aliases: 'model_aliases',
  aliasHistory: 'alias_history',
  predictions: 'predictions',
  outcomes: 'outcomes',
  /** documents staged while they replace stored ones on FerretDB (store/replace.ts) */
  replacements: 'replacements',
  /** one score per (model, version, user), written by scoreNewUsers */
  scores: 'scores',
  /** saved audience rules, by name */
  audiences: 'audiences',
} as const;

export const BUCKETS = {
  uploads: 'uploads',
  datasets: 'dataset_blobs',
  models: 'model_blobs',
  oof: 'oof_blobs',
} as const;

/** Creates every index the repositories rely on; idempotent, called by worker and API at start. */
export async function ensureIndexes(db: Db): Promise<void> {
  await Promise.all([
    db.collection(COLLECTIONS.users).createIndex({ createdBatch: 1 }),
    db.collection(COLLECTIONS.users).createIndex({ lastBatch: 1 }),
    db.collection(COLLECTIONS.users).createIndex({ ingestedAt: 1 }),
    db.collection(COLLECTIONS.users).createIndex({ firstOpen: 1 }),
    db.collection(COLLECTIONS.predictions).createIndex({ modelName: 1, version: 1, firstOpen: 1 }),
    db.collection(COLLECTIONS.rejects).createIndex({ batchId: 1, line: 1 }),
    db.collection(COLLECTIONS.modelVersions).createIndex({ modelName: 1, version: 1 }, { unique: true }),
    db.collection(COLLECTIONS.modelVersions).createIndex({ modelName: 1, runId: 1 }, { unique: true }),
    db.collection(COLLECTIONS.aliasHistory).createIndex({ modelName: 1, at: -1 }),
    db.collection(COLLECTIONS.cvCells).createIndex({ runId: 1 }),
    db.collection(COLLECTIONS.runs).createIndex({ modelName: 1, startedAt: -1 }),
    db.collection(COLLECTIONS.predictions).createIndex({ modelName: 1, version: 1, userId: 1 }),
    db.collection(COLLECTIONS.predictions).createIndex({ userId: 1 }),
    db.collection(COLLECTIONS.scores).createIndex({ modelName: 1, version: 1, probability: -1 }),
    db.collection(COLLECTIONS.scores).createIndex({ modelName: 1, userId: 1 }),
  ]);
}
