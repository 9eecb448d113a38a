import type { Db } from 'mongodb';
import { insertManyIgnoringDuplicates } from './bulk';
import { COLLECTIONS } from './collections';
import type { IngestSummary } from '../common/workflow-types';

export type BatchStatus = 'validating' | 'writing' | 'done' | 'failed';

/** Outcome of the validation pass, kept so a retried ingest need not validate again. */
export interface BatchValidation {
  read: number;
  rejected: number;
  superseded: number;
  /** The observation time of the file (epoch ms): given at ingest, else its latest first_open or purchase_date. */
  asOf: number;
  asOfSource: 'given' | 'latest-in-file';
}

/**
 * Where the writing pass stands: every valid line before `nextLine` is written, with these
 * counts. Saved after each chunk, before the heartbeat, so it is never behind it.
 */
export interface WriteCheckpoint {
  nextLine: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Written users still inside their 24 h window at the batch's asOf. */
  pending: number;
}

export interface BatchDoc {
  _id: string;
  fileName: string;
  uploadId: string;
  bytes: number;
  checksum: string;
  /** sha256 of the parsed mapping, null without one. */
  mappingHash: string | null;
  /** The mapping's IANA zone (UTC without a mapping): the users' local time for calendar features. */
  timezone: string;
  status: BatchStatus;
  startedAt: Date;
  finishedAt?: Date;
  /** `linesDone`: physical lines processed by the current phase (header = line 1). */
  progress: { linesDone: number; phase: BatchStatus; updatedAt?: Date };
  validation?: BatchValidation;
  checkpoint?: WriteCheckpoint;
  counts?: Omit<IngestSummary, 'batchId' | 'fileName' | 'bytes' | 'checksum' | 'alreadyIngested' | 'asOf' | 'asOfSource'>;
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

/** The raw collection, for store/ and for tests that set up a state by hand. */
export function batches(db: Db) {
  return db.collection<BatchDoc>(COLLECTIONS.ingestBatches);
}

/** The newest batch ingesting (or that ingested) an upload, for progress lines. */
export async function latestBatchOfUpload(db: Db, uploadId: string): Promise<BatchDoc | null> {
  return batches(db).find({ uploadId }).sort({ startedAt: -1 }).limit(1).next();
}

export async function getBatch(db: Db, batchId: string): Promise<BatchDoc | null> {
  return batches(db).findOne({ _id: batchId });
}

/** Creates the batch document once; a retry finds it and keeps its recorded progress. */
export async function openBatch(db: Db, doc: Omit<BatchDoc, 'status' | 'progress' | 'startedAt'>, now: Date): Promise<BatchDoc> {
  await batches(db).updateOne(
    { _id: doc._id },
    { $setOnInsert: { ...doc, status: 'validating', progress: { linesDone: 0, phase: 'validating', updatedAt: now }, startedAt: now } },
    { upsert: true },
  );
  return (await getBatch(db, doc._id))!;
}

export async function recordProgress(db: Db, batchId: string, phase: BatchStatus, linesDone: number): Promise<void> {
  await batches(db).updateOne({ _id: batchId }, { $set: { status: phase, progress: { linesDone, phase, updatedAt: new Date() } } });
}

/** Records the validation outcome; the writing pass starts from line 1. */
export async function recordValidation(db: Db, batchId: string, validation: BatchValidation): Promise<void> {
  await batches(db).updateOne({ _id: batchId }, {
    $set: { validation, status: 'writing', progress: { linesDone: 0, phase: 'writing', updatedAt: new Date() } },
    $unset: { checkpoint: '', error: '' },
  });
}

export async function recordCheckpoint(db: Db, batchId: string, checkpoint: WriteCheckpoint): Promise<void> {
  await batches(db).updateOne({ _id: batchId }, {
    $set: { checkpoint, status: 'writing', progress: { linesDone: checkpoint.nextLine - 1, phase: 'writing', updatedAt: new Date() } },
  });
}

export async function finishBatch(db: Db, batchId: string, counts: BatchDoc['counts'], now: Date): Promise<void> {
  await batches(db).updateOne({ _id: batchId }, { $set: { status: 'done', counts, finishedAt: now }, $unset: { error: '' } });
}

/** Marks the batch failed and forgets any validation, so a later attempt validates afresh. */
export async function failBatch(db: Db, batchId: string, error: string, now: Date): Promise<void> {
  await batches(db).updateOne({ _id: batchId }, { $set: { status: 'failed', error, finishedAt: now }, $unset: { validation: '', checkpoint: '' } });
}

/**
 * Rejects are keyed by batch and line, so recording them again on a retry is a no-op. Inserted
 * (duplicates ignored) rather than upserted: on FerretDB/SQLite an upsert by _id scans the
 * collection, an insert uses the unique index.
 */
export async function writeRejects(db: Db, rejects: RejectDoc[]): Promise<void> {
  await insertManyIgnoringDuplicates(db.collection<RejectDoc>(COLLECTIONS.rejects), rejects);
}

export async function listRejects(db: Db, batchId: string, limit = 100): Promise<RejectDoc[]> {
  return db.collection<RejectDoc>(COLLECTIONS.rejects).find({ batchId }).sort({ line: 1 }).limit(limit).toArray();
}

/** Lines of a batch whose user reappears later in the file (recorded by the validation pass). */
export async function supersededLines(db: Db, batchId: string, reason: string): Promise<Set<number>> {
  const lines = new Set<number>();
  for await (const r of db.collection<RejectDoc>(COLLECTIONS.rejects).find({ batchId, reason }, { projection: { line: 1 } })) lines.add(r.line);
  return lines;
}

/**
 * The zone calendar features are computed in: the zone of the most recently finished batch (a
 * deployment serves one app, so its exports share one zone; `zones` lists every distinct zone so
 * a snapshot can say when batches disagreed). UTC when no batch has one.
 */
export async function featureTimezone(db: Db): Promise<{ timezone: string; zones: string[] }> {
  const done = await batches(db).find({ status: 'done' }, { projection: { timezone: 1, finishedAt: 1 } }).sort({ finishedAt: -1 }).toArray();
  const zones = [...new Set(done.map((b) => b.timezone ?? 'UTC'))].sort();
  return { timezone: done[0]?.timezone ?? 'UTC', zones };
}

/**
 * The data's own "now": the latest observation time of any finished batch (epoch ms), or null
 * before the first ingest. Monitoring windows and maturity are measured against it, never
 * against the wall clock, so a replayed month behaves like a real one.
 */
export async function latestObservation(db: Db): Promise<number | null> {
  const b = await batches(db).find({ status: 'done', 'validation.asOf': { $exists: true } }, { projection: { 'validation.asOf': 1 } }).sort({ 'validation.asOf': -1 }).limit(1).next();
  const t = b?.validation?.asOf;
  return typeof t === 'number' && Number.isFinite(t) ? t : null;
}
