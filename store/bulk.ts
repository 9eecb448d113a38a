import type { AnyBulkWriteOperation, Collection, Document } from 'mongodb';

/**
 * FerretDB 1.24 (SQLite backend) hangs on one `update` command of 100 or more statements that
 * touch existing documents (measured: 99 updates in one bulk take ~0.35 s, 100 never return; fresh
 * upserts are unaffected). Bulk writes therefore go out in batches below that bound; on MongoDB
 * the cost is a few more round trips.
 */
export const MAX_BULK_OPS = 50;

/** `bulkWrite` in batches of at most {@link MAX_BULK_OPS}, sequentially (order across batches kept). */
export async function bulkWriteInBatches<T extends Document>(col: Collection<T>, ops: AnyBulkWriteOperation<T>[], ordered = false): Promise<{ upserted: number; modified: number; matched: number }> {
  const total = { upserted: 0, modified: 0, matched: 0 };
  for (let i = 0; i < ops.length; i += MAX_BULK_OPS) {
    const r = await col.bulkWrite(ops.slice(i, i + MAX_BULK_OPS), { ordered });
    total.upserted += r.upsertedCount;
    total.modified += r.modifiedCount;
    total.matched += r.matchedCount;
  }
  return total;
}
