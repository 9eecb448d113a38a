import type { Db } from 'mongodb';
import { BUCKETS, COLLECTIONS } from './collections';
import { getBlob, putBlob } from './blobs';
import { packArrays, unpackArrays } from './typed-pack';
import type { FeatureSpec } from '../data/features';
import type { ReferenceHistogram } from '../ml/drift';

/** The snapshot document; its matrix lives in GridFS under the same id. */
export interface DatasetDoc {
  _id: string;
  spec: FeatureSpec;
  names: string[];
  rows: number;
  cols: number;
  labelRate: number;
  trainRows: number;
  holdoutRows: number;
  splitStrategy: string;
  holdoutFraction: number;
  seed: number;
  referenceHistograms: ReferenceHistogram[];
  /** Users known when the snapshot was taken (matured, pending and unlabelled). */
  usersAtSnapshot: number;
  /** Matured users in the snapshot (= rows): the base for the monitor's new-data trigger. */
  matured: number;
  /** Users still inside their 24 h window when the snapshot was taken, left out of it. */
  pending: number;
  /** Zone of the calendar features (the ingest mapping's); `timezones` lists every zone the batches had. */
  timezone: string;
  timezones: string[];
  /** sha256 over the sorted training user ids: which users a model of this snapshot has seen. */
  trainFingerprint: string;
  /** Latest first_open among the snapshot's users (epoch ms): "saw newer data" compares these. */
  latestFirstOpen: number;
  blobSha256: string;
  createdAt: Date;
}

export interface DatasetArrays {
  X: Float64Array;
  y: Uint8Array;
  train: Int32Array;
  holdout: Int32Array;
  holdoutUserIds: string[];
  /** Ids of the training rows, in row order: the gate keeps them out of any comparison. */
  trainUserIds: string[];
}

export async function saveDataset(db: Db, doc: Omit<DatasetDoc, 'blobSha256'>, arrays: DatasetArrays): Promise<DatasetDoc> {
  const blob = packArrays({ X: arrays.X, y: arrays.y, train: arrays.train, holdout: arrays.holdout }, { holdoutUserIds: arrays.holdoutUserIds, trainUserIds: arrays.trainUserIds });
  const { sha256 } = await putBlob(db, BUCKETS.datasets, doc._id, blob, { kind: 'dataset' });
  const full: DatasetDoc = { ...doc, blobSha256: sha256 };
  // $setOnInsert: a retried snapshot with the same id keeps the first document unchanged.
  await db.collection<DatasetDoc>(COLLECTIONS.datasets).updateOne({ _id: doc._id }, { $setOnInsert: full }, { upsert: true });
  return (await getDatasetDoc(db, doc._id))!;
}

export async function getDatasetDoc(db: Db, id: string): Promise<DatasetDoc | null> {
  return db.collection<DatasetDoc>(COLLECTIONS.datasets).findOne({ _id: id });
}

const cache = new Map<string, { doc: DatasetDoc; arrays: DatasetArrays }>();
const CACHE_MAX = 2;

/**
 * Loads a snapshot with its arrays, checksum-verified. Kept in a small per-process cache:
 * grid-search cells on one worker share the same dataset, and it is immutable by id.
 */
export async function loadDataset(db: Db, id: string): Promise<{ doc: DatasetDoc; arrays: DatasetArrays } | null> {
  const hit = cache.get(id);
  if (hit) return hit;
  const doc = await getDatasetDoc(db, id);
  if (!doc) return null;
  const { arrays, meta } = unpackArrays(await getBlob(db, BUCKETS.datasets, id, doc.blobSha256));
  const value = {
    doc,
    arrays: {
      X: arrays.X as Float64Array,
      y: arrays.y as Uint8Array,
      train: arrays.train as Int32Array,
      holdout: arrays.holdout as Int32Array,
      holdoutUserIds: (meta.holdoutUserIds as string[]) ?? [],
      trainUserIds: (meta.trainUserIds as string[]) ?? [],
    },
  };
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(id, value);
  return value;
}

export async function latestDataset(db: Db): Promise<DatasetDoc | null> {
  return db.collection<DatasetDoc>(COLLECTIONS.datasets).find().sort({ createdAt: -1 }).limit(1).next();
}

/** Gathers rows of a row-major matrix into a new contiguous matrix. */
export function takeRows(X: Float64Array, cols: number, idx: Int32Array): Float64Array {
  const out = new Float64Array(idx.length * cols);
  for (let i = 0; i < idx.length; i++) out.set(X.subarray(idx[i]! * cols, idx[i]! * cols + cols), i * cols);
  return out;
}

export function takeLabels(y: Uint8Array, idx: Int32Array): Uint8Array {
  const out = new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = y[idx[i]!]!;
  return out;
}
