import { MongoBulkWriteError, type AnyBulkWriteOperation, type Collection, type Db, type Document, type OptionalUnlessRequiredId } from 'mongodb';
import { FERRETDB_LIMITS, serverProfile } from './server';

/**
 * FerretDB 1.24 (SQLite backend) hangs on one `update` command of 100 or more statements that
 * touch existing documents (measured: 99 updates in one bulk take ~0.35 s, 100 never return; fresh
 * upserts are unaffected). On FerretDB bulk writes therefore go out in batches below that bound;
 * on MongoDB in one call, which the driver splits by the server's own limits (store/server.ts).
 */
export const MAX_BULK_OPS = FERRETDB_LIMITS.maxBulkOps;

/** `bulkWrite` in batches the server can take, sequentially (order across batches kept). */
export async function bulkWriteInBatches<T extends Document>(db: Db, col: Collection<T>, ops: AnyBulkWriteOperation<T>[], ordered = false): Promise<{ upserted: number; modified: number; matched: number }> {
  const total = { upserted: 0, modified: 0, matched: 0 };
  const step = Math.min(ops.length, (await serverProfile(db)).maxBulkOps) || 1;
  for (let i = 0; i < ops.length; i += step) {
    const r = await col.bulkWrite(ops.slice(i, i + step), { ordered });
    total.upserted += r.upsertedCount;
    total.modified += r.modifiedCount;
    total.matched += r.matchedCount;
  }
  return total;
}

/** MongoDB's (and FerretDB's) duplicate-key error code. */
const DUPLICATE_KEY = 11000;

/** Whether `err` is a duplicate-key error (an insert of an `_id` or unique key already stored). */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === DUPLICATE_KEY;
}

/**
 * Unordered `insertMany` where a duplicate `_id` is not an error: what is already stored stays.
 * Returns how many were inserted and the indexes (into `docs`) of the duplicates; any other
 * write error is rethrown.
 */
export async function insertManyIgnoringDuplicates<T extends Document>(col: Collection<T>, docs: readonly OptionalUnlessRequiredId<T>[]): Promise<{ inserted: number; duplicates: number[] }> {
  if (docs.length === 0) return { inserted: 0, duplicates: [] };
  try {
    return { inserted: (await col.insertMany([...docs], { ordered: false })).insertedCount, duplicates: [] };
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    if (errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
    return { inserted: err.result.insertedCount, duplicates: errors.map((e) => e.index) };
  }
}
