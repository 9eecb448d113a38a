import type { Db } from 'mongodb';
import { openBlobStream, sha256 } from '../store/blobs';
import { BUCKETS } from '../store/collections';
import { uploadInfo } from '../store/uploads';
import {
  openBatch, recordProgress, recordValidation, recordCheckpoint, finishBatch, failBatch, writeRejects, getBatch,
  supersededLines, type RejectDoc, type BatchValidation, type WriteCheckpoint,
} from '../store/batches';
import { writeUserChunk } from '../store/users';
import { readUserLogs, type ParsedRow } from '../data/csv-reader';
import { IngestFileError, REJECT_REASONS } from '../data/errors';
import { parseMapping, type Mapping } from '../data/mapping';
import type { UserRecord } from '../data/record';
import type { IngestRequest, IngestSummary } from '../common/workflow-types';
import { heartbeat, nonRetryable, FAILURE_TYPES } from './context';
import type { ActivityDeps } from './deps';

/** Users per write. Measured on FerretDB/SQLite: 2,000 vs 500 or 5,000 changes little; see bench/ingest.ts. */
export const CHUNK_ROWS = 2000;
const REJECT_FLUSH = 500;
const PROGRESS_EVERY = 20_000;
/** Re-sends the last heartbeat while one database call runs long (a FerretDB table scan). */
const KEEPALIVE_MS = 5000;

/** Heartbeat details: what the status page and a human need; resuming reads the batch document. */
export type IngestHeartbeat = { phase: 'starting' } | { phase: 'validating'; read: number } | ({ phase: 'writing' } & WriteCheckpoint);
type Beat = (details: IngestHeartbeat) => void;

/** The mapping and a given observation time change what the bytes mean, so both are part of the batch identity. */
export function batchIdOf(uploadId: string, mappingHash: string | null, asOf?: number): string {
  const base = mappingHash ? `${uploadId}-m${mappingHash.slice(0, 16)}` : uploadId;
  return asOf === undefined ? base : `${base}-a${asOf}`;
}

function rowsOf(db: Db, req: IngestRequest, mapping: Mapping | undefined, startLine?: number): AsyncGenerator<ParsedRow> {
  return readUserLogs(openBlobStream(db, BUCKETS.uploads, req.uploadId), { fileName: req.fileName, mapping, startLine, trackDuplicates: startLine === undefined, asOf: req.asOf });
}

/** Pass 1: validate every row, record rejects and superseded duplicates; writes no user. */
async function validatePass(db: Db, req: IngestRequest, batchId: string, mapping: Mapping | undefined, beat: Beat) {
  const v: BatchValidation = { read: 0, rejected: 0, superseded: 0, asOf: req.asOf ?? Number.NEGATIVE_INFINITY, asOfSource: req.asOf === undefined ? 'latest-in-file' : 'given' };
  const superseded = new Set<number>();
  const byReason = new Map<string, number>();
  let firstReject: RejectDoc | null = null;
  let pending: RejectDoc[] = [];
  const reject = async (doc: Omit<RejectDoc, '_id' | 'batchId' | 'fileName'>) => {
    pending.push({ _id: `${batchId}:${doc.line}`, batchId, fileName: req.fileName, ...doc });
    if (pending.length >= REJECT_FLUSH) {
      await writeRejects(db, pending);
      pending = [];
    }
  };
  for await (const row of rowsOf(db, req, mapping)) {
    v.read++;
    if (row.kind === 'reject') {
      v.rejected++;
      byReason.set(row.reason, (byReason.get(row.reason) ?? 0) + 1);
      firstReject ??= { _id: '', batchId, fileName: req.fileName, line: row.line, raw: row.raw, reason: row.reason, detail: row.detail };
      await reject({ line: row.line, raw: row.raw, reason: row.reason, detail: row.detail });
    } else {
      // The default observation time: the latest moment the file shows (DATA.md).
      if (req.asOf === undefined) v.asOf = Math.max(v.asOf, row.record.firstOpen, row.record.purchaseDate ?? Number.NEGATIVE_INFINITY);
    }
    if (row.kind === 'ok' && row.duplicateOfLine !== undefined) {
      // The earlier line loses; readUserLogs keeps no raw text of ok rows, so raw stays empty.
      v.superseded++;
      superseded.add(row.duplicateOfLine);
      await reject({ line: row.duplicateOfLine, raw: '', reason: REJECT_REASONS.duplicateUserId,
        detail: `user_id ${JSON.stringify(row.record.userId)} appears again at line ${row.line}; the later line wins` });
    }
    if (v.read % 1000 === 0) beat({ phase: 'validating', read: v.read });
    if (v.read % PROGRESS_EVERY === 0) await recordProgress(db, batchId, 'validating', row.line);
  }
  await writeRejects(db, pending);
  return { v, superseded, byReason, firstReject };
}

/** Why a validated file is refused as a whole, or null when it is acceptable. */
function refusal(req: IngestRequest, p: Awaited<ReturnType<typeof validatePass>>): string | null {
  const { v, firstReject: f } = p;
  if (v.read === 0) return `${req.fileName}: no data rows after the header`;
  const share = v.rejected / v.read;
  if (share <= req.rejectLimit) return null;
  const reasons = [...p.byReason].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${n} ${r}`).join(', ');
  return `${req.fileName}: ${v.rejected} of ${v.read} rows rejected (${(share * 100).toFixed(1)} % > limit ${(req.rejectLimit * 100).toFixed(1)} %: ${reasons}); first at line ${f?.line}: ${f?.detail}`;
}

/**
 * Pass 2: writes the valid, non-superseded rows in chunks from the batch's checkpoint. The
 * checkpoint (next line + counts) is saved after every chunk, before the heartbeat, so a retry
 * (or a new workflow for the same file) re-runs at most the one chunk in flight, which
 * writeUserChunk recognises by provenance.
 */
async function writePass(db: Db, req: IngestRequest, batchId: string, mapping: Mapping | undefined, superseded: Set<number>, asOf: number, from: WriteCheckpoint, beat: Beat) {
  const cp = { ...from };
  const now = new Date();
  let chunk: UserRecord[] = [];
  let lastLine = cp.nextLine - 1;
  const flush = async () => {
    beat({ phase: 'writing', ...cp });
    const c = await writeUserChunk(db, batchId, chunk, now, asOf);
    chunk = [];
    cp.pending += c.pending;
    cp.inserted += c.inserted;
    cp.updated += c.updated;
    cp.unchanged += c.unchanged;
    cp.nextLine = lastLine + 1;
    await recordCheckpoint(db, batchId, cp);
    beat({ phase: 'writing', ...cp });
  };
  for await (const row of rowsOf(db, req, mapping, cp.nextLine)) {
    lastLine = row.line;
    if (row.kind !== 'ok' || superseded.has(row.line)) continue;
    chunk.push(row.record);
    if (chunk.length >= CHUNK_ROWS) await flush();
  }
  await flush();
  return cp;
}

const isoOrNull = (t: number | undefined): string | null => (t !== undefined && Number.isFinite(t) ? new Date(t).toISOString() : null);

async function ingest(db: Db, req: IngestRequest, beat: Beat): Promise<IngestSummary> {
  let mapping: Mapping | undefined;
  try {
    mapping = req.mapping === undefined || req.mapping === null ? undefined : parseMapping(req.mapping);
  } catch (err) {
    throw nonRetryable(FAILURE_TYPES.badInputFile, new Error(`${req.fileName}: ${(err as Error).message}`));
  }
  if (!(req.rejectLimit >= 0 && req.rejectLimit <= 1)) {
    throw nonRetryable(FAILURE_TYPES.badConfig, new RangeError(`rejectLimit must be within 0-1, got ${req.rejectLimit}`));
  }
  const info = await uploadInfo(db, req.uploadId);
  if (!info) throw nonRetryable(FAILURE_TYPES.notFound, new Error(`upload ${req.uploadId} (${req.fileName}) not found`));
  const mappingHash = mapping ? sha256(Buffer.from(JSON.stringify(mapping))) : null;
  if (req.asOf !== undefined && !Number.isFinite(req.asOf)) {
    throw nonRetryable(FAILURE_TYPES.badConfig, new RangeError(`asOf must be a finite epoch-ms time, got ${req.asOf}`));
  }
  const batchId = batchIdOf(req.uploadId, mappingHash, req.asOf);
  const base = { batchId, fileName: req.fileName, bytes: info.bytes, checksum: req.uploadId };
  const existing = await getBatch(db, batchId);
  if (existing?.status === 'done' && existing.counts) return { ...base, ...existing.counts, asOf: isoOrNull(existing.validation?.asOf), asOfSource: existing.validation?.asOfSource ?? 'latest-in-file', alreadyIngested: true };

  const batch = await openBatch(db, { _id: batchId, fileName: req.fileName, uploadId: req.uploadId, bytes: info.bytes, checksum: req.uploadId, mappingHash, timezone: mapping?.timezone ?? 'UTC' }, new Date());
  try {
    // failBatch clears validation and checkpoint, so a failed batch is validated afresh.
    let validation = batch.validation;
    let superseded: Set<number>;
    if (validation) {
      superseded = await supersededLines(db, batchId, REJECT_REASONS.duplicateUserId);
    } else {
      const p = await validatePass(db, req, batchId, mapping, beat);
      const why = refusal(req, p);
      if (why) {
        await failBatch(db, batchId, why, new Date());
        throw nonRetryable(FAILURE_TYPES.badInputFile, new Error(why));
      }
      validation = p.v;
      superseded = p.superseded;
      await recordValidation(db, batchId, validation);
    }
    const start = (batch.validation && batch.checkpoint) || { nextLine: 1, inserted: 0, updated: 0, unchanged: 0, pending: 0 };
    const w = await writePass(db, req, batchId, mapping, superseded, validation.asOf, start, beat);
    const counts = { read: validation.read, inserted: w.inserted, updated: w.updated, unchanged: w.unchanged, superseded: validation.superseded, rejected: validation.rejected, pending: w.pending };
    await finishBatch(db, batchId, counts, new Date());
    return { ...base, ...counts, asOf: isoOrNull(validation.asOf), asOfSource: validation.asOfSource, alreadyIngested: false };
  } catch (err) {
    if (err instanceof IngestFileError) {
      await failBatch(db, batchId, err.message, new Date());
      throw nonRetryable(FAILURE_TYPES.badInputFile, err);
    }
    throw err;
  }
}

/**
 * Ingests one uploaded CSV: validate the whole file first (a file that fails as a whole writes
 * no user), then write valid rows keyed by user_id. Same file (and mapping) twice: no change.
 */
export function createIngestActivities({ db }: ActivityDeps) {
  return {
    /** @throws ApplicationFailure `BadInputFile` (non-retryable) naming the file and column. */
    async ingestUpload(req: IngestRequest): Promise<IngestSummary> {
      // Liveness, not progress: a dead worker stops heartbeating and Temporal retries elsewhere
      // within the heartbeat timeout, however long a single write takes.
      let last: IngestHeartbeat = { phase: 'starting' };
      const beat: Beat = (d) => heartbeat((last = d));
      const keepalive = setInterval(() => heartbeat(last), KEEPALIVE_MS);
      try {
        return await ingest(db, req, beat);
      } finally {
        clearInterval(keepalive);
      }
    },
  };
}
