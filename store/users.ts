import type { AnyBulkWriteOperation, Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import type { UserRecord } from '../data/record';
import { sha256 } from './blobs';

/** A stored user: the canonical record plus provenance. */
export interface UserDoc extends Omit<UserRecord, 'userId'> {
  _id: string;
  contentHash: string;
  createdBatch: string;
  lastBatch: string;
  ingestedAt: Date;
}

/** Hash of the fields that matter, so an identical row from another file is "unchanged". */
export function recordHash(r: UserRecord): string {
  return sha256(Buffer.from(JSON.stringify([r.firstOpen, r.screens, r.age, r.numscreens, r.purchaseDate, r.label, r.extra])));
}

/**
 * Writes one chunk of records for a batch. Rows identical to what is stored are left alone
 * (unchanged); a record without a purchase column (label null) never erases a known label.
 * Re-running the same chunk is a no-op: that is what makes a retried ingest idempotent.
 */
export async function writeUserChunk(db: Db, batchId: string, records: UserRecord[], now: Date): Promise<void> {
  if (records.length === 0) return;
  const users = db.collection<UserDoc>(COLLECTIONS.users);
  const ids = records.map((r) => r.userId);
  const existing = new Map<string, string>();
  for await (const d of users.find({ _id: { $in: ids } }, { projection: { contentHash: 1 } })) existing.set(d._id, d.contentHash);
  const ops: AnyBulkWriteOperation<UserDoc>[] = [];
  for (const r of records) {
    const hash = recordHash(r);
    const prev = existing.get(r.userId);
    if (prev === hash) continue;
    const { userId, ...fields } = r;
    const set: Partial<UserDoc> = { ...fields, contentHash: hash, lastBatch: batchId, ingestedAt: now };
    if (r.label === null) {
      delete set.label;
      delete set.purchaseDate;
    }
    ops.push({
      updateOne: {
        filter: { _id: userId },
        update: { $set: set, $setOnInsert: { createdBatch: batchId, ...(r.label === null ? { label: null, purchaseDate: null } : {}) } },
        upsert: true,
      },
    });
  }
  if (ops.length > 0) await users.bulkWrite(ops, { ordered: false });
}

/** Exact counts for a finished batch, derived from provenance so a resumed ingest counts right. */
export async function batchWriteCounts(db: Db, batchId: string): Promise<{ inserted: number; updated: number }> {
  const users = db.collection<UserDoc>(COLLECTIONS.users);
  const inserted = await users.countDocuments({ createdBatch: batchId });
  const touched = await users.countDocuments({ lastBatch: batchId });
  return { inserted, updated: touched - inserted };
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
