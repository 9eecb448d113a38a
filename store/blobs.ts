import { createHash } from 'node:crypto';
import { GridFSBucket, type Db } from 'mongodb';
import type { Readable } from 'node:stream';

/** Thrown when a blob's bytes do not match the checksum it was stored under. */
export class ChecksumMismatchError extends Error {
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

export function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/**
 * Content-addressed GridFS: a blob's id is given by the caller (usually a checksum or a natural
 * key), so writing the same blob twice is a no-op — what makes retried activities idempotent.
 */
export async function putBlob(db: Db, bucket: string, id: string, data: Uint8Array, metadata: Record<string, unknown> = {}): Promise<{ id: string; sha256: string; bytes: number }> {
  const b = new GridFSBucket(db, { bucketName: bucket });
  const digest = sha256(data);
  const existing = await b.find({ _id: id as never }).limit(1).toArray();
  if (existing.length > 0) return { id, sha256: digest, bytes: data.byteLength };
  await new Promise<void>((resolve, reject) => {
    const up = b.openUploadStreamWithId(id as never, id, { metadata: { ...metadata, sha256: digest } });
    up.once('error', reject);
    up.once('finish', () => resolve());
    up.end(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }).catch((err: { code?: number }) => {
    // A concurrent writer of the same id won the race; the content is identical by construction.
    if (err?.code !== 11000) throw err;
  });
  return { id, sha256: digest, bytes: data.byteLength };
}

/** Reads a whole blob, verifying the sha256 recorded at write time (or the one given). */
export async function getBlob(db: Db, bucket: string, id: string, expectedSha?: string): Promise<Buffer> {
  const b = new GridFSBucket(db, { bucketName: bucket });
  const files = await b.find({ _id: id as never }).limit(1).toArray();
  if (files.length === 0) throw new BlobNotFoundError(bucket, id);
  const chunks: Buffer[] = [];
  for await (const c of b.openDownloadStream(id as never)) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  const expected = expectedSha ?? (files[0]!.metadata?.sha256 as string | undefined);
  const actual = sha256(buf);
  if (expected && expected !== actual) throw new ChecksumMismatchError(id, expected, actual);
  return buf;
}

export async function blobExists(db: Db, bucket: string, id: string): Promise<boolean> {
  const b = new GridFSBucket(db, { bucketName: bucket });
  return (await b.find({ _id: id as never }).limit(1).toArray()).length > 0;
}

export function openBlobStream(db: Db, bucket: string, id: string): Readable {
  return new GridFSBucket(db, { bucketName: bucket }).openDownloadStream(id as never);
}
