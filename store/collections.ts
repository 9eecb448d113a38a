import type { Db } from 'mongodb';
import { serverProfile } from './server';

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

/** Every index the repositories rely on: collection, keys, and whether it is a constraint (unique). */
export const INDEXES: readonly { collection: string; key: Record<string, 1 | -1>; unique?: true }[] = [
  { collection: COLLECTIONS.users, key: { createdBatch: 1 } },
  { collection: COLLECTIONS.users, key: { lastBatch: 1 } },
  { collection: COLLECTIONS.users, key: { ingestedAt: 1 } },
  { collection: COLLECTIONS.users, key: { firstOpen: 1 } },
  { collection: COLLECTIONS.predictions, key: { modelName: 1, version: 1, firstOpen: 1 } },
  { collection: COLLECTIONS.rejects, key: { batchId: 1, line: 1 } },
  { collection: COLLECTIONS.modelVersions, key: { modelName: 1, version: 1 }, unique: true },
  { collection: COLLECTIONS.modelVersions, key: { modelName: 1, runId: 1 }, unique: true },
  { collection: COLLECTIONS.aliasHistory, key: { modelName: 1, at: -1 } },
  { collection: COLLECTIONS.cvCells, key: { runId: 1 } },
  { collection: COLLECTIONS.runs, key: { modelName: 1, startedAt: -1 } },
  { collection: COLLECTIONS.predictions, key: { modelName: 1, version: 1, userId: 1 } },
  { collection: COLLECTIONS.predictions, key: { userId: 1 } },
  // the prediction log's segments, selected by their first-open range (store/predictions.ts)
  { collection: COLLECTIONS.predictions, key: { modelName: 1, version: 1, firstOpenMax: 1 } },
  { collection: COLLECTIONS.scores, key: { modelName: 1, version: 1, probability: -1 } },
  { collection: COLLECTIONS.scores, key: { modelName: 1, userId: 1 } },
];

/** MongoDB's default name of an index on `key` (`a_1_b_-1`). */
export const indexName = (key: Record<string, 1 | -1>): string => Object.entries(key).map(([k, v]) => `${k}_${v}`).join('_');

/**
 * Creates the indexes the repositories rely on; idempotent, called by worker and API at start.
 * On FerretDB 1.24 (SQLite) only the unique ones (constraints): it never uses a secondary index
 * to answer a query (explain: a SCAN of the table, filterPushdown false, whatever the index), but
 * maintains each on every write, so three of them made an insert of 1,000 predictions 4x slower
 * (26 -> 100-109 ms, measured). Those left from before are dropped there; MongoDB gets them all.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  const ferret = (await serverProfile(db)).kind === 'ferretdb';
  await Promise.all(INDEXES.map(async (ix) => {
    const c = db.collection(ix.collection);
    if (!ferret || ix.unique) {
      await c.createIndex(ix.key, ix.unique ? { unique: true } : {});
      return;
    }
    await c.dropIndex(indexName(ix.key)).catch(() => undefined); // absent: nothing to drop
  }));
}
