import type { Db } from 'mongodb';
import { BUCKETS, COLLECTIONS } from './collections';
import { getBlob, putBlob } from './blobs';
import { packArrays, packStream, unpackArrays } from './typed-pack';
import type { StreamedArray } from '../ml/container';
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
  /**
   * Checksum of the users blob (`<id>:users`: the holdout and training user ids). Snapshots from
   * before 2026-12-04 have none and keep the ids in the matrix blob's meta.
   */
  usersBlobSha256?: string;
  createdAt: Date;
}

/** Which users a snapshot holds out and trains on (what the gate, the monitor and the drift page read). */
export interface DatasetUsers {
  holdoutUserIds: string[];
  /** Ids of the training rows, in row order: the gate keeps them out of any comparison. */
  trainUserIds: string[];
}

/** A snapshot's matrix, labels and split: what grid cells and the refit read. */
export interface DatasetMatrix {
  X: Float64Array;
  y: Uint8Array;
  train: Int32Array;
  holdout: Int32Array;
}

/** Everything a snapshot stores. */
export type DatasetArrays = DatasetMatrix & DatasetUsers;

const usersBlobId = (datasetId: string) => `${datasetId}:users`;

/**
 * A matrix made a chunk of rows at a time (the snapshot transforms its users in chunks and never
 * holds the whole matrix: 416 MB at a million users). `chunks` yields row-major chunks in row
 * order that add up to rows × cols values; it may be called again if the upload starts over.
 */
export interface MatrixSource {
  rows: number;
  cols: number;
  chunks: () => Iterable<Float64Array>;
}

export type DatasetInput = Omit<DatasetArrays, 'X'> & { X: Float64Array | MatrixSource };
type DatasetFields = Omit<DatasetDoc, 'blobSha256' | 'usersBlobSha256'>;

/**
 * Stores a snapshot: the matrix, labels and split (streamed from the arrays or the source, never
 * copied into one buffer), the user ids in a blob of their own (read without the matrix), then
 * the document. `fields` is called once the matrix is stored: what the document reports may be
 * gathered while the source's chunks are made (the snapshot's reference histograms).
 */
export async function storeDataset(db: Db, id: string, arrays: DatasetInput, fields: () => Omit<DatasetFields, '_id'>): Promise<DatasetDoc> {
  const { X } = arrays;
  const matrix = (): Float64Array | StreamedArray => (X instanceof Float64Array ? X : { type: Float64Array, length: X.rows * X.cols, chunks: X.chunks() });
  const users = packArrays({}, { holdoutUserIds: arrays.holdoutUserIds, trainUserIds: arrays.trainUserIds });
  const u = await putBlob(db, BUCKETS.datasets, usersBlobId(id), users, { kind: 'dataset-users' });
  const m = await putBlob(db, BUCKETS.datasets, id, () => packStream({ X: matrix(), y: arrays.y, train: arrays.train, holdout: arrays.holdout }), { kind: 'dataset' });
  const full: DatasetDoc = { ...fields(), _id: id, blobSha256: m.sha256, usersBlobSha256: u.sha256 };
  // $setOnInsert: a retried snapshot with the same id keeps the first document unchanged.
  await db.collection<DatasetDoc>(COLLECTIONS.datasets).updateOne({ _id: id }, { $setOnInsert: full }, { upsert: true });
  return (await getDatasetDoc(db, id))!;
}

/** {@link storeDataset} of a matrix in hand and a document known up front. */
export async function saveDataset(db: Db, doc: DatasetFields, arrays: DatasetInput): Promise<DatasetDoc> {
  const { _id, ...fields } = doc;
  return storeDataset(db, _id, arrays, () => fields);
}

export async function getDatasetDoc(db: Db, id: string): Promise<DatasetDoc | null> {
  return db.collection<DatasetDoc>(COLLECTIONS.datasets).findOne({ _id: id });
}

/** A loaded matrix; `users` only for snapshots from before the users blob (their ids come with the matrix). */
interface Cached { doc: DatasetDoc; arrays: DatasetMatrix; users?: DatasetUsers; bytes: number }
const cache = new Map<string, Cached>();

/**
 * What the per-process cache keeps besides the dataset used last (which always stays: grid cells
 * and the refit on one worker share their run's dataset): the most recently used others, at most
 * 3 and at most this many bytes of matrices in all. A million users' matrix is 416 MB and the
 * worker should stay under 1 GB, so a second one that large is not kept.
 */
export const DATASET_CACHE_BYTES = 256 * 2 ** 20;
const DATASET_CACHE_OTHERS = 3;

function remember(id: string, value: Cached): void {
  cache.delete(id);
  cache.set(id, value);
  let bytes = 0;
  let kept = 0;
  for (const [k, v] of [...cache].reverse()) {
    if (k === id) continue;
    bytes += v.bytes;
    if (bytes > DATASET_CACHE_BYTES || ++kept > DATASET_CACHE_OTHERS) cache.delete(k);
  }
}

/**
 * Loads a snapshot's matrix, labels and split, checksum-verified. Kept in a small per-process
 * cache: grid-search cells on one worker share the same dataset, and it is immutable by id. The
 * arrays are views of the one buffer the blob was read into (the matrix is held once). The user
 * ids are not loaded ({@link loadDatasetUsers}): a million of them were 60 MB of a worker's heap
 * that no grid cell reads.
 */
export function loadDataset(db: Db, id: string): Promise<{ doc: DatasetDoc; arrays: DatasetMatrix } | null> {
  return loadCached(db, id);
}

/** {@link loadDataset}'s entry as cached, with the ids of a snapshot from before the users blob. */
async function loadCached(db: Db, id: string): Promise<Cached | null> {
  const hit = cache.get(id);
  if (hit) {
    remember(id, hit);
    return hit;
  }
  // Grid cells start two at a time on a worker: both missed the cache and each read the matrix,
  // two copies of 416 MB at a million users. Callers of one id share the one read under way.
  let load = loading.get(id);
  if (!load) {
    load = readDataset(db, id).finally(() => loading.delete(id));
    loading.set(id, load);
  }
  return load;
}

const loading = new Map<string, Promise<Cached | null>>();

async function readDataset(db: Db, id: string): Promise<Cached | null> {
  const doc = await getDatasetDoc(db, id);
  if (!doc) return null;
  const buf = await getBlob(db, BUCKETS.datasets, id, doc.blobSha256);
  const { arrays, meta } = unpackArrays(buf, { views: true });
  const value: Cached = {
    doc,
    bytes: buf.byteLength,
    arrays: { X: arrays.X as Float64Array, y: arrays.y as Uint8Array, train: arrays.train as Int32Array, holdout: arrays.holdout as Int32Array },
    ...(doc.usersBlobSha256 ? {} : { users: usersOf(meta) }),
  };
  remember(id, value);
  return value;
}

function usersOf(meta: Record<string, unknown>): DatasetUsers {
  return { holdoutUserIds: (meta.holdoutUserIds as string[]) ?? [], trainUserIds: (meta.trainUserIds as string[]) ?? [] };
}

async function readUsers(db: Db, doc: DatasetDoc): Promise<DatasetUsers> {
  return usersOf(unpackArrays(await getBlob(db, BUCKETS.datasets, usersBlobId(doc._id), doc.usersBlobSha256)).meta);
}

/**
 * A snapshot's document and user ids without its matrix (the gate, the monitor and the drift page
 * need only the ids: loading a million users' matrix for them cost 416 MB per call). Snapshots
 * from before the users blob existed are read whole, once, through {@link loadDataset}.
 */
export async function loadDatasetUsers(db: Db, id: string): Promise<{ doc: DatasetDoc; users: DatasetUsers } | null> {
  const doc = cache.get(id)?.doc ?? (await getDatasetDoc(db, id));
  if (!doc) return null;
  if (doc.usersBlobSha256) return { doc, users: await readUsers(db, doc) };
  // from the entry the load returns, not a second cache lookup another load may have evicted it from
  const whole = await loadCached(db, id);
  return whole && { doc: whole.doc, users: whole.users ?? usersOf({}) };
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
