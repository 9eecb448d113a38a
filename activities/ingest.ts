import type { Db } from 'mongodb';
import { openBlobStream } from '../store/blobs';
import { BUCKETS } from '../store/collections';
import { uploadInfo } from '../store/uploads';
import { openBatch, recordProgress, finishBatch, failBatch, writeRejects, getBatch, type RejectDoc } from '../store/batches';
import { writeUserChunk, batchWriteCounts } from '../store/users';
import { readUserLogs, type ParsedRow } from '../data/csv-reader';
import { parseMapping, type Mapping } from '../data/mapping';
import type { UserRecord } from '../data/record';
import type { IngestRequest, IngestSummary } from '../common/workflow-types';
import { heartbeat, resumeDetails, nonRetryable, FAILURE_TYPES } from './context';
import type { ActivityDeps } from './deps';

const CHUNK_ROWS = 2000;

/** Heartbeat details of the writing pass: the first line not yet written. */
interface IngestCheckpoint {
  phase: 'writing';
  nextLine: number;
}

function batchIdOf(uploadId: string, mapping: Mapping | undefined): string {
  // The mapping changes what the bytes mean, so it is part of the batch identity.
  return mapping ? `${uploadId.slice(0, 40)}-${Buffer.from(JSON.stringify(mapping)).toString('base64url').slice(0, 16)}` : uploadId;
}

async function* rowsOf(db: Db, req: IngestRequest, mapping: Mapping | undefined, startLine?: number): AsyncGenerator<ParsedRow> {
  yield* readUserLogs(openBlobStream(db, BUCKETS.uploads, req.uploadId), { fileName: req.fileName, mapping, startLine });
}

/** Pass 1: validate every row, record rejects, decide whether the file is acceptable at all. */
async function validatePass(db: Db, req: IngestRequest, batchId: string, mapping: Mapping | undefined) {
  let read = 0;
  let rejected = 0;
  let superseded = 0;
  let firstReject: RejectDoc | null = null;
  let pending: RejectDoc[] = [];
  for await (const row of rowsOf(db, req, mapping)) {
    read++;
    if (row.kind === 'reject') {
      rejected++;
      const doc: RejectDoc = { _id: `${batchId}:${row.line}`, batchId, fileName: req.fileName, line: row.line, raw: row.raw, reason: row.reason, detail: row.detail };
      firstReject ??= doc;
      pending.push(doc);
      if (pending.length >= 500) {
        await writeRejects(db, pending);
        pending = [];
      }
    } else if (row.duplicateOfLine !== undefined) {
      superseded++;
    }
    if (read % 20_000 === 0) {
      heartbeat({ phase: 'validating', read });
      await recordProgress(db, batchId, 'validating', read);
    }
  }
  await writeRejects(db, pending);
  return { read, rejected, superseded, firstReject };
}

/** Pass 2: write valid rows in chunks; a retry resumes from the last heartbeat's line. */
async function writePass(db: Db, req: IngestRequest, batchId: string, mapping: Mapping | undefined): Promise<void> {
  const resume = resumeDetails<IngestCheckpoint>();
  const startLine = resume?.phase === 'writing' ? resume.nextLine : undefined;
  const now = new Date();
  let chunk = new Map<string, UserRecord>(); // later line wins inside a chunk; chunks are written in order
  let lastLine = 0;
  const flush = async () => {
    await writeUserChunk(db, batchId, [...chunk.values()], now);
    chunk = new Map();
    const checkpoint: IngestCheckpoint = { phase: 'writing', nextLine: lastLine + 1 };
    await recordProgress(db, batchId, 'writing', lastLine);
    heartbeat(checkpoint);
  };
  for await (const row of rowsOf(db, req, mapping, startLine)) {
    lastLine = row.line;
    if (row.kind !== 'ok') continue;
    chunk.delete(row.record.userId);
    chunk.set(row.record.userId, row.record);
    if (chunk.size >= CHUNK_ROWS) await flush();
  }
  await flush();
}

/**
 * Ingests one uploaded CSV: validate the whole file first (so a file that fails as a whole
 * writes no user), then upsert valid rows keyed by user_id. Same file twice: no change.
 */
export function createIngestActivities({ db }: ActivityDeps) {
  return {
    async ingestUpload(req: IngestRequest): Promise<IngestSummary> {
      let mapping: Mapping | undefined;
      try {
        mapping = req.mapping === undefined || req.mapping === null ? undefined : parseMapping(req.mapping);
      } catch (err) {
        throw nonRetryable(FAILURE_TYPES.badInputFile, err);
      }
      const info = await uploadInfo(db, req.uploadId);
      if (!info) throw nonRetryable(FAILURE_TYPES.notFound, new Error(`upload ${req.uploadId} (${req.fileName}) not found`));
      const batchId = batchIdOf(req.uploadId, mapping);
      const base = { batchId, fileName: req.fileName, bytes: info.bytes, checksum: req.uploadId };
      const existing = await getBatch(db, batchId);
      if (existing?.status === 'done' && existing.counts) return { ...base, ...existing.counts, alreadyIngested: true };

      await openBatch(db, { _id: batchId, fileName: req.fileName, uploadId: req.uploadId, bytes: info.bytes, checksum: req.uploadId }, new Date());
      let v: Awaited<ReturnType<typeof validatePass>>;
      try {
        v = await validatePass(db, req, batchId, mapping);
      } catch (err) {
        if ((err as Error)?.name === 'IngestFileError') {
          await failBatch(db, batchId, (err as Error).message, new Date());
          throw nonRetryable(FAILURE_TYPES.badInputFile, err);
        }
        throw err;
      }
      const share = v.read === 0 ? 0 : v.rejected / v.read;
      if (v.read === 0 || share > req.rejectLimit) {
        const why = v.read === 0
          ? `${req.fileName}: no data rows`
          : `${req.fileName}: ${v.rejected} of ${v.read} rows rejected (${(share * 100).toFixed(1)} %, limit ${(req.rejectLimit * 100).toFixed(1)} %); first: line ${v.firstReject?.line} ${v.firstReject?.reason}: ${v.firstReject?.detail}`;
        await failBatch(db, batchId, why, new Date());
        throw nonRetryable(FAILURE_TYPES.badInputFile, new Error(why));
      }
      await writePass(db, req, batchId, mapping);
      const { inserted, updated } = await batchWriteCounts(db, batchId);
      const valid = v.read - v.rejected;
      const counts = { read: v.read, inserted, updated, unchanged: valid - v.superseded - inserted - updated, superseded: v.superseded, rejected: v.rejected };
      await finishBatch(db, batchId, counts, new Date());
      return { ...base, ...counts, alreadyIngested: false };
    },
  };
}
