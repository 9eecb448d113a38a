import type { Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import type { IngestSummary } from '../common/workflow-types';

export type BatchStatus = 'validating' | 'writing' | 'done' | 'failed';

export interface BatchDoc {
  _id: string;
  fileName: string;
  uploadId: string;
  bytes: number;
  checksum: string;
  status: BatchStatus;
  startedAt: Date;
  finishedAt?: Date;
  progress: { linesDone: number; phase: BatchStatus };
  counts?: Omit<IngestSummary, 'batchId' | 'fileName' | 'bytes' | 'checksum' | 'alreadyIngested'>;
  error?: string;
}

export interface RejectDoc {
  _id: string;
  batchId: string;
  fileName: string;
  line: number;
  raw: string;
  reason: string;
  detail: string;
}

export function batches(db: Db) {
  return db.collection<BatchDoc>(COLLECTIONS.ingestBatches);
}

export async function getBatch(db: Db, batchId: string): Promise<BatchDoc | null> {
  return batches(db).findOne({ _id: batchId });
}

/** Creates the batch document once; a retry finds it and keeps its recorded progress. */
export async function openBatch(db: Db, doc: Omit<BatchDoc, 'status' | 'progress' | 'startedAt'>, now: Date): Promise<BatchDoc> {
  await batches(db).updateOne(
    { _id: doc._id },
    { $setOnInsert: { ...doc, status: 'validating', progress: { linesDone: 0, phase: 'validating' }, startedAt: now } },
    { upsert: true },
  );
  return (await getBatch(db, doc._id))!;
}

export async function recordProgress(db: Db, batchId: string, phase: BatchStatus, linesDone: number): Promise<void> {
  await batches(db).updateOne({ _id: batchId }, { $set: { status: phase, progress: { linesDone, phase } } });
}

export async function finishBatch(db: Db, batchId: string, counts: BatchDoc['counts'], now: Date): Promise<void> {
  await batches(db).updateOne({ _id: batchId }, { $set: { status: 'done', counts, finishedAt: now }, $unset: { error: '' } });
}

export async function failBatch(db: Db, batchId: string, error: string, now: Date): Promise<void> {
  await batches(db).updateOne({ _id: batchId }, { $set: { status: 'failed', error, finishedAt: now } });
}

/** Rejects are keyed by batch and line, so recording them again on a retry is a no-op. */
export async function writeRejects(db: Db, rejects: RejectDoc[]): Promise<void> {
  if (rejects.length === 0) return;
  await db.collection<RejectDoc>(COLLECTIONS.rejects).bulkWrite(
    rejects.map((r) => ({ replaceOne: { filter: { _id: r._id }, replacement: r, upsert: true } })),
    { ordered: false },
  );
}

export async function listRejects(db: Db, batchId: string, limit = 100): Promise<RejectDoc[]> {
  return db.collection<RejectDoc>(COLLECTIONS.rejects).find({ batchId }).sort({ line: 1 }).limit(limit).toArray();
}
