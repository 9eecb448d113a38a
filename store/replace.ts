import type { Db, Document } from 'mongodb';
import { COLLECTIONS } from './collections';
import { bulkWriteInBatches, insertManyIgnoringDuplicates } from './bulk';
import { serverProfile } from './server';

/** A document about to replace the stored one with the same `_id`, kept until the replacement is done. */
interface StagedReplacement {
  _id: string;
  col: string;
  tag: string;
  stagedAt: Date;
  doc: Document & { _id: string };
}

/**
 * Replaces whole documents by `_id`.
 *
 * On MongoDB: one `replaceOne` per document, in the driver's batches; each is atomic.
 *
 * On FerretDB 1.24 (SQLite) an update or replace by `_id` does not push its filter down: each
 * statement reads the whole collection (measured on 40,000 users: 165 ms per `updateOne`,
 * 118 s for one `updateMany` of 1,000 ids), while one `deleteMany({_id: {$in}})` costs one read
 * (2.4 s for 1,000 ids) and inserts use the unique index (40 ms for 1,000). There the documents are
 * therefore replaced by delete + insert, made durable by staging: the new documents are first
 * written to the `replacements` collection under `tag`, then the old ones are deleted and the new
 * ones inserted, then the stage is cleared. A crash between delete and insert leaves the new
 * documents staged, and {@link recoverReplacements} (called by the next attempt with the same
 * tag before it reads) puts them back. Readers may miss a replaced document for the moment between
 * delete and insert; nothing is lost.
 */
export async function replaceById(db: Db, colName: string, docs: readonly (Document & { _id: string })[], tag: string): Promise<void> {
  if (docs.length === 0) return;
  const col = db.collection<Document & { _id: string }>(colName);
  if ((await serverProfile(db)).kind === 'mongodb') {
    const res = await bulkWriteInBatches(db, col, docs.map((d) => ({ replaceOne: { filter: { _id: d._id }, replacement: d } })));
    if (res.matched !== docs.length) throw new Error(`${colName}: ${docs.length - res.matched} documents vanished while being replaced`);
    return;
  }
  const staging = db.collection<StagedReplacement>(COLLECTIONS.replacements);
  const ids = docs.map((d) => d._id);
  await insertManyIgnoringDuplicates(staging, docs.map((doc): StagedReplacement => ({ _id: stageKey(colName, tag, doc._id), col: colName, tag, stagedAt: new Date(), doc })));
  await col.deleteMany({ _id: { $in: ids } });
  await insertManyIgnoringDuplicates(col, docs);
  await staging.deleteMany({ col: colName, tag });
}

/**
 * Finishes replacements staged under `tag` by an attempt that crashed: staged documents whose
 * `_id` is missing from the collection are inserted; where the old document is still there (the
 * crash came before the delete) it stays, and the caller's retry decides again. Returns how many
 * documents were restored.
 */
export async function recoverReplacements(db: Db, colName: string, tag: string): Promise<number> {
  return recover(db, { col: colName, tag });
}

/**
 * The same for writers that never retry under the same tag (an API call): stages under tags
 * starting with `prefix` and older than `olderThanMs` are finished. Writers still running stage
 * for well under that age.
 */
export async function recoverStaleReplacements(db: Db, colName: string, prefix: string, olderThanMs: number): Promise<number> {
  return recover(db, { col: colName, tag: { $regex: `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}` }, stagedAt: { $lt: new Date(Date.now() - olderThanMs) } });
}

async function recover(db: Db, filter: Document): Promise<number> {
  const staging = db.collection<StagedReplacement>(COLLECTIONS.replacements);
  const staged = await staging.find(filter).toArray();
  if (staged.length === 0) return 0;
  const { inserted: restored } = await insertManyIgnoringDuplicates(db.collection<Document & { _id: string }>(staged[0]!.col), staged.map((s) => s.doc));
  await staging.deleteMany({ _id: { $in: staged.map((s) => s._id) } });
  return restored;
}

function stageKey(col: string, tag: string, id: string): string {
  return `${col}\u0000${tag}\u0000${id}`;
}
