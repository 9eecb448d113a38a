import { createHash } from 'node:crypto';
import { GridFSBucket, type Binary, type Db, type Document } from 'mongodb';
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

/**
 * Content-addressed GridFS: a blob's id is given by the caller (usually a checksum or a natural
 * key), so writing the same blob twice is a no-op — what makes retried activities idempotent.
 * `data` may be one buffer or parts written one after another (packParts: a dataset's matrix is
 * streamed from the arrays it lives in, not copied into one buffer first).
 */
export async function putBlob(db: Db, bucket: string, id: string, data: Uint8Array | readonly Uint8Array[], metadata: Record<string, unknown> = {}): Promise<{ id: string; sha256: string; bytes: number }> {
  const parts = data instanceof Uint8Array ? [data] : data;
  const b = new GridFSBucket(db, { bucketName: bucket });
  const h = createHash('sha256');
  let bytes = 0;
  for (const p of parts) {
    h.update(p);
    bytes += p.byteLength;
  }
  const digest = h.digest('hex');
  const existing = await b.find({ _id: id as never }).limit(1).toArray();
  // What is stored is what counts: a blob written by an earlier release under the same id may differ in layout.
  if (existing.length > 0) return { id, sha256: (existing[0]!.metadata?.sha256 as string | undefined) ?? digest, bytes: existing[0]!.length };
  await new Promise<void>((resolve, reject) => {
    const up = b.openUploadStreamWithId(id as never, id, { metadata: { ...metadata, sha256: digest } });
    up.once('error', reject);
    up.once('finish', () => resolve());
    // Slices of WRITE_SLICE bytes, each after the last one's chunks are stored ('drain'): the
    // driver's upload stream inserts every chunk of one write() at once, each a copy, so writing
    // a dataset's matrix in one call held a second copy of it in flight (+91 MB at 200,000 users).
    let i = 0;
    let at = 0;
    const next = () => {
      while (i < parts.length) {
        const p = parts[i]!;
        const n = Math.min(WRITE_SLICE, p.byteLength - at);
        const slice = Buffer.from(p.buffer, p.byteOffset + at, n);
        at += n;
        if (at >= p.byteLength) {
          i++;
          at = 0;
        }
        if (!up.write(slice)) {
          up.once('drain', next);
          return;
        }
      }
      up.end();
    };
    next();
  }).catch((err: { code?: number }) => {
    // A concurrent writer of the same id won the race; the content is identical by construction.
    if (!isDuplicateKey(err)) throw err;
  });
  return { id, sha256: digest, bytes };
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

/** The blob's chunks in order; `known` is its files document when the caller already read it. */
async function* chunksOf(db: Db, bucket: string, id: string, known?: Document): AsyncGenerator<Buffer> {
  const file = known ?? (await fileDoc(db, bucket, id));
  let n = 0;
  let bytes = 0;
  const { chunkBatch } = await serverProfile(db);
  const cursor = db.collection(`${bucket}.chunks`).find({ files_id: id as never }, chunkBatch === undefined ? {} : { batchSize: chunkBatch }).sort({ n: 1 });
  for await (const c of cursor) {
    if (c.n !== n) throw new CorruptArtifactError(`blob ${id} in ${bucket}: chunk ${n} missing (next is ${c.n})`);
    n++;
    const bin = c.data as Binary;
    const data = Buffer.from(bin.buffer.buffer, bin.buffer.byteOffset, bin.position);
    bytes += data.length;
    yield data;
  }
  if (bytes !== file.length) throw new Error(`blob ${id} in ${bucket}: read ${bytes} bytes, ${file.length} recorded`);
}

/** Streams a blob's bytes in chunk order, a few chunks in memory at a time. */
export function openBlobStream(db: Db, bucket: string, id: string): Readable {
  return Readable.from(chunksOf(db, bucket, id), { objectMode: false });
}
