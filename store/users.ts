import { MongoBulkWriteError, type AnyBulkWriteOperation, type Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import { bulkWriteInBatches } from './bulk';
import { purchasedWithin24h, type UserRecord } from '../data/record';
import { sha256 } from './blobs';

/** A stored user: the canonical record plus provenance. */
export interface UserDoc extends Omit<UserRecord, 'userId'> {
  _id: string;
  /** {@link recordHash} of the stored fields (after label merging), so equality means "nothing to write". */
  contentHash: string;
  createdBatch: string;
  lastBatch: string;
  ingestedAt: Date;
}

/** What one chunk write did; `unchanged` counts rows identical to what was stored. */
export interface ChunkWriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

const DUPLICATE_KEY = 11000;

/** Hash of the fields that matter, so an identical row from another file is "unchanged". */
export function recordHash(r: UserRecord): string {
  return sha256(Buffer.from(JSON.stringify([r.firstOpen, r.screens, r.age, r.numscreens, r.purchaseDate, r.label, r.extra])));
}

/**
 * The record to store when `incoming` meets what is stored. A file without a purchase column
 * (label null) never erases a known purchase: the stored purchase date is kept and the label is
 * recomputed against the incoming first_open with the 24 h rule. A file with the column is
 * authoritative, an empty cell included (DATA.md: empty means no purchase).
 */
export function mergeRecord(incoming: UserRecord, stored: Pick<UserDoc, 'label' | 'purchaseDate'> | null): UserRecord {
  if (incoming.label !== null || stored === null || stored.label === null || stored.label === undefined) return incoming;
  const purchaseDate = stored.purchaseDate ?? null;
  return { ...incoming, purchaseDate, label: purchasedWithin24h(incoming.firstOpen, purchaseDate) };
}

function toDoc(r: UserRecord, batchId: string, now: Date): UserDoc {
  const { userId, ...fields } = r;
  return { _id: userId, ...fields, contentHash: recordHash(r), createdBatch: batchId, lastBatch: batchId, ingestedAt: now };
}

type StoredHead = Pick<UserDoc, '_id' | 'contentHash' | 'label' | 'purchaseDate' | 'createdBatch' | 'lastBatch'>;

/**
 * Writes one chunk of records (distinct user ids) for a batch and says what it did.
 *
 * Insert first, unordered: new users cost one bulk insert and no lookup. Only ids the insert
 * reports as duplicates are read back (one `$in` query) and compared by content hash; changed
 * ones get a `$set`. This matters on FerretDB 1.24 / SQLite, where every `_id` lookup, update or
 * delete scans the table (its `_id` index is never used) while inserts use the unique index:
 * an existence lookup before every chunk made a fresh ingest quadratic.
 *
 * Re-running a chunk (a retried activity) writes nothing: ids already written by this batch
 * (`lastBatch === batchId`) are counted as inserted/updated from their provenance, so the
 * counts of a resumed ingest equal those of an uninterrupted one.
 */
export async function writeUserChunk(db: Db, batchId: string, records: UserRecord[], now: Date): Promise<ChunkWriteCounts> {
  const counts: ChunkWriteCounts = { inserted: 0, updated: 0, unchanged: 0 };
  if (records.length === 0) return counts;
  const users = db.collection<UserDoc>(COLLECTIONS.users);
  const dupIndexes: number[] = [];
  try {
    const res = await users.insertMany(records.map((r) => toDoc(r, batchId, now)), { ordered: false });
    counts.inserted += res.insertedCount;
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    const other = errors.find((e) => e.code !== DUPLICATE_KEY);
    if (other) throw err;
    counts.inserted += err.result.insertedCount;
    for (const e of errors) dupIndexes.push(e.index);
  }
  if (dupIndexes.length === 0) return counts;

  const dup = new Set(dupIndexes);
  const existing = records.filter((_, i) => dup.has(i));
  const stored = new Map<string, StoredHead>();
  const projection = { contentHash: 1, label: 1, purchaseDate: 1, createdBatch: 1, lastBatch: 1 };
  for await (const d of users.find({ _id: { $in: existing.map((r) => r.userId) } }, { projection })) stored.set(d._id, d as StoredHead);

  const ops: AnyBulkWriteOperation<UserDoc>[] = [];
  for (const r of existing) {
    const prev = stored.get(r.userId);
    // Deleted between our insert and the read: let the activity retry the chunk.
    if (!prev) throw new Error(`user ${r.userId} vanished while batch ${batchId} was writing it`);
    if (prev.lastBatch === batchId) {
      // Written by an earlier attempt of this same chunk (each user occurs once per pass).
      if (prev.createdBatch === batchId) counts.inserted++;
      else counts.updated++;
      continue;
    }
    const merged = mergeRecord(r, prev);
    const hash = recordHash(merged);
    if (hash === prev.contentHash) {
      counts.unchanged++;
      continue;
    }
    const { userId, ...fields } = merged;
    ops.push({ updateOne: { filter: { _id: userId }, update: { $set: { ...fields, contentHash: hash, lastBatch: batchId, ingestedAt: now } } } });
  }
  if (ops.length > 0) {
    // In batches: FerretDB hangs on 100+ updates of existing documents in one command (store/bulk.ts).
    const res = await bulkWriteInBatches(users, ops);
    if (res.matched !== ops.length) throw new Error(`batch ${batchId}: ${ops.length - res.matched} users vanished while being updated`);
    counts.updated += ops.length;
  }
  return counts;
}

export function docToRecord(d: UserDoc): UserRecord {
  return {
    userId: d._id,
    firstOpen: d.firstOpen,
    screens: d.screens,
    age: d.age,
    numscreens: d.numscreens,
    purchaseDate: d.purchaseDate,
    label: d.label,
    extra: d.extra ?? {},
  };
}

/** Labelled users, in a stable order (by id) so snapshots are reproducible. */
export async function loadLabelledUsers(db: Db): Promise<UserRecord[]> {
  const out: UserRecord[] = [];
  const cur = db.collection<UserDoc>(COLLECTIONS.users).find({ label: { $in: [0, 1] } }).sort({ _id: 1 });
  for await (const d of cur) out.push(docToRecord(d));
  return out;
}

export async function countUsers(db: Db, filter: Record<string, unknown> = {}): Promise<number> {
  return db.collection(COLLECTIONS.users).countDocuments(filter);
}
