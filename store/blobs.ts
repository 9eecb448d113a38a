import { createHash } from 'node:crypto';
import { GridFSBucket, ObjectId, type Binary, type Db, type Document } from 'mongodb';
import { Readable } from 'node:stream';
import { serverProfile } from './server';
import { CorruptArtifactError } from '../common/errors';
import { isDuplicateKey } from './bulk';

/** Thrown when a blob's bytes do not match the checksum it was stored under. */
export class ChecksumMismatchError extends CorruptArtifactError {
  constructor(readonly blobId: string, readonly expected: string, readonly actual: string) {
    super(`blob ${blobId}: checksum ${actual} does not match the recorded ${expected}`);
    this.name = 'ChecksumMismatchError';
  }
}

export class BlobNotFoundError extends Error {
  constructor(readonly bucket: string, readonly blobId: string) {
    super(`blob ${blobId} not found in bucket ${bucket}`);
    this.name = 'BlobNotFoundError';
  }
}

/** Bytes handed to GridFS's upload stream at a time: four of its 255 KiB chunks. */
const WRITE_SLICE = 4 * 255 * 1024;

export function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** A BSON Binary's bytes as a Buffer over the same memory: its written length, not the capacity behind it. */
export function binaryBytes(bin: Binary): Buffer {
  return Buffer.from(bin.buffer.buffer, bin.buffer.byteOffset, bin.length());
}

/**
 * What putBlob stores: one buffer, parts written one after another (packParts: a matrix streamed
 * from the arrays it lives in), or a function giving the parts as they are made (a snapshot's
 * matrix is transformed a chunk at a time and never held whole; called again if the upload must
 * start over).
 */
export type BlobSource = Uint8Array | readonly Uint8Array[] | (() => Iterable<Uint8Array>);

/**
 * A blob's chunks without a files document whose newest chunk is older than this were left by an
 * upload that stopped (a worker killed mid-upload): a live upload adds chunks every few seconds
 * at most (1 MB slices, each written once the last is stored).
 */
const STALLED_UPLOAD_MS = 20_000;
/** How long a put waits for a concurrent writer of the same blob to finish. */
const CONCURRENT_WAIT_MS = 30_000;

/**
 * Content-addressed GridFS: a blob's id is given by the caller (usually a checksum or a natural
 * key), so writing the same blob twice is a no-op — what makes retried activities idempotent.
 * The sha256 goes into the files document's metadata (getBlob checks it); for a source whose
 * parts are made as they are written it is known only at the end and recorded then.
 * Two writers of one id write the same bytes (ids are content-derived or natural keys), so their
 * chunks may interleave: a put whose chunk insert meets another's waits for that writer's files
 * document while the writer's chunks keep coming. Chunks that stopped coming (none newer than
 * STALLED_UPLOAD_MS) were left by an attempt that crashed mid-upload: they are removed and the
 * upload made again; the put's own first slice, written before it met them, is among the chunks
 * that must stall, so a retry after a crash stores the blob about STALLED_UPLOAD_MS later. (Before,
 * the retry's inserts failed as duplicates and were taken for a concurrent writer's, and the blob
 * never got a files document; then a rule on the first chunk's age made a retry right after a
 * crash wait ten minutes, longer than its activity's retries.)
 */
export async function putBlob(db: Db, bucket: string, id: string, data: BlobSource, metadata: Record<string, unknown> = {}, opts: { waitMs?: number; stalledMs?: number } = {}): Promise<{ id: string; sha256: string; bytes: number }> {
  const b = new GridFSBucket(db, { bucketName: bucket });
  const stored = await storedBlob(db, bucket, id);
  if (stored) return stored;
  const source = typeof data === 'function' ? data : () => (data instanceof Uint8Array ? [data] : data);
  // Known up front for bytes in hand: then the files document is complete when it appears.
  const known = typeof data === 'function' ? undefined : sha256Of(source());
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await upload(b, id, source(), { ...metadata, ...(known ? { sha256: known } : {}) });
      if (!known) await db.collection(`${bucket}.files`).updateOne({ _id: id as never }, { $set: { 'metadata.sha256': r.sha256 } });
      return { id, ...r };
    } catch (err) {
      if (!isDuplicateKey(err) || attempt >= 3) throw err;
      // Another writer of the same bytes: wait for its files document while its chunks keep coming.
      const stalledMs = opts.stalledMs ?? STALLED_UPLOAD_MS;
      const started = Date.now();
      const until = started + (opts.waitMs ?? CONCURRENT_WAIT_MS);
      // leaves only when the other writer's chunks stopped coming: a crashed upload's
      for (let poll = 0; ; poll++) {
        const now = await storedBlob(db, bucket, id);
        if (now) return now;
        // every other poll (~1 s): when did the other writer add its last chunk?
        if (poll % 2 === 0 && Date.now() - (await newestChunkAt(db, bucket, id)) >= stalledMs) break;
        if (Date.now() >= until) throw new Error(`blob ${id} in ${bucket}: another upload of it has been under way for ${Math.round((Date.now() - started) / 1000)} s and has not finished; try again later`);
        await new Promise((r) => setTimeout(r, 500));
      }
      if (!(await storedBlob(db, bucket, id))) await db.collection(`${bucket}.chunks`).deleteMany({ files_id: id as never });
    }
  }
}

/**
 * When the newest of the blob's chunks was written (epoch ms, from its ObjectId; 0 when none is
 * left). Read as ids only, unsorted (FerretDB would sort the chunks, data and all, in its memory).
 */
async function newestChunkAt(db: Db, bucket: string, id: string): Promise<number> {
  let newest = 0;
  for await (const c of db.collection(`${bucket}.chunks`).find({ files_id: id as never }, { projection: { _id: 1 }, batchSize: 1000 })) {
    if (c._id instanceof ObjectId) newest = Math.max(newest, c._id.getTimestamp().getTime());
  }
  return newest;
}

function sha256Of(parts: Iterable<Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** The stored blob's checksum and size, or null; a files document without a checksum gets one from its bytes. */
async function storedBlob(db: Db, bucket: string, id: string): Promise<{ id: string; sha256: string; bytes: number } | null> {
  const file = await db.collection(`${bucket}.files`).findOne({ _id: id as never });
  if (!file) return null;
  // What is stored is what counts: a blob written by an earlier release under the same id may differ in layout.
  let digest = file.metadata?.sha256 as string | undefined;
  if (!digest) {
    // a streamed upload that stopped between its files document and the checksum
    digest = createHash('sha256').update(await getBlob(db, bucket, id)).digest('hex');
    await db.collection(`${bucket}.files`).updateOne({ _id: id as never }, { $set: { 'metadata.sha256': digest } });
  }
  return { id, sha256: digest, bytes: Number(file.length) };
}

/**
 * Writes the parts into a new GridFS file in slices of WRITE_SLICE bytes, each after the last
 * one's chunks are stored ('drain'): the driver's upload stream inserts every chunk of one write()
 * at once, each a copy, so writing a dataset's matrix in one call held a second copy of it in
 * flight (+91 MB at 200,000 users). Returns the bytes' sha256 and length.
 */
function upload(b: GridFSBucket, id: string, parts: Iterable<Uint8Array>, metadata: Record<string, unknown>): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  const it = parts[Symbol.iterator]();
  return new Promise((resolve, reject) => {
    const up = b.openUploadStreamWithId(id as never, id, { metadata });
    up.once('error', reject);
    up.once('finish', () => resolve({ sha256: h.digest('hex'), bytes }));
    let part: Uint8Array | null = null;
    let at = 0;
    const next = () => {
      try {
        for (;;) {
          if (part === null || at >= part.byteLength) {
            const r = it.next();
            if (r.done) {
              up.end();
              return;
            }
            part = r.value;
            at = 0;
            h.update(part);
            bytes += part.byteLength;
            if (part.byteLength === 0) continue;
          }
          const n = Math.min(WRITE_SLICE, part.byteLength - at);
          const slice = Buffer.from(part.buffer, part.byteOffset + at, n);
          at += n;
          if (!up.write(slice)) {
            up.once('drain', next);
            return;
          }
        }
      } catch (err) {
        // the source failed (a transform error): remove the chunks written so far, no files document
        void up.abort().catch(() => undefined).finally(() => reject(err));
      }
    };
    next();
  });
}

/**
 * Reads a whole blob, verifying the sha256 recorded at write time (or the one given). The bytes go
 * into one buffer of the recorded length as the chunks arrive (collecting the chunks and then
 * concatenating them held a large blob twice), a buffer of its own, so its arrays may be views of it.
 */
export async function getBlob(db: Db, bucket: string, id: string, expectedSha?: string): Promise<Buffer> {
  const file = await fileDoc(db, bucket, id);
  const length = Number(file.length);
  if (!Number.isSafeInteger(length) || length < 0) throw new CorruptArtifactError(`blob ${id} in ${bucket}: recorded length ${String(file.length)} is not a byte count`);
  const buf = Buffer.allocUnsafeSlow(length);
  let at = 0;
  const h = createHash('sha256');
  for await (const c of chunksOf(db, bucket, id, file)) {
    if (at + c.length > length) throw new CorruptArtifactError(`blob ${id} in ${bucket}: chunks hold more than the ${length} bytes recorded`);
    c.copy(buf, at);
    h.update(c);
    at += c.length;
  }
  const expected = expectedSha ?? (file.metadata?.sha256 as string | undefined);
  const actual = h.digest('hex');
  if (expected && expected !== actual) throw new ChecksumMismatchError(id, expected, actual);
  return buf;
}

/*
 * Chunks per reply: on FerretDB 1.24, which ignores MongoDB's 16 MB reply cap (the driver's GridFS
 * download got every remaining chunk of a 172 MB upload in one 143 MB getMore, which the worker
 * then held twice), 16 chunks = 4 MB per reply; on MongoDB the driver's default (store/server.ts).
 */

async function fileDoc(db: Db, bucket: string, id: string): Promise<Document> {
  const file = await db.collection(`${bucket}.files`).findOne({ _id: id as never });
  if (!file) throw new BlobNotFoundError(bucket, id);
  return file;
}

/**
 * The blob's chunks in order; `known` is its files document when the caller already read it.
 * MongoDB returns them sorted by its (files_id, n) index. FerretDB 1.24 would sort the whole
 * result in its own memory (every chunk of a 416 MB matrix at once: the server passed 1 GB in a
 * million-user grid), so there they are read in storage order, which is the order they were
 * written, and any that arrives early waits here for the ones before it.
 */
async function* chunksOf(db: Db, bucket: string, id: string, known?: Document): AsyncGenerator<Buffer> {
  const file = known ?? (await fileDoc(db, bucket, id));
  let n = 0;
  let bytes = 0;
  const { kind, chunkBatch } = await serverProfile(db);
  const find = db.collection(`${bucket}.chunks`).find({ files_id: id as never }, chunkBatch === undefined ? {} : { batchSize: chunkBatch });
  const cursor = kind === 'ferretdb' ? find : find.sort({ n: 1 });
  const early = new Map<number, Buffer>();
  for await (const c of cursor) {
    const data = binaryBytes(c.data as Binary);
    const k = Number(c.n);
    if (!Number.isSafeInteger(k) || k < n || early.has(k)) throw new CorruptArtifactError(`blob ${id} in ${bucket}: chunk ${String(c.n)} appears twice or is not a chunk number`);
    if (k > n) {
      early.set(k, data);
      continue;
    }
    for (let next: Buffer | undefined = data; next !== undefined; next = early.get(n)) {
      early.delete(n);
      n++;
      bytes += next.length;
      yield next;
    }
  }
  if (early.size > 0) throw new CorruptArtifactError(`blob ${id} in ${bucket}: chunk ${n} missing (next is ${Math.min(...early.keys())})`);
  if (bytes !== file.length) throw new Error(`blob ${id} in ${bucket}: read ${bytes} bytes, ${file.length} recorded`);
}

/** Streams a blob's bytes in chunk order, a few chunks in memory at a time. */
export function openBlobStream(db: Db, bucket: string, id: string): Readable {
  return Readable.from(chunksOf(db, bucket, id), { objectMode: false });
}
