import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { GridFSBucket, type Db } from 'mongodb';
import { BUCKETS } from './collections';
import { isDuplicateKey } from './bulk';

export interface Upload {
  uploadId: string;
  fileName: string;
  bytes: number;
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Copies a local file into GridFS under its sha256, so the worker that ingests it needs no
 * shared file system; uploading the same bytes twice stores them once.
 */
export async function uploadFile(db: Db, path: string): Promise<Upload> {
  const { size } = await stat(path);
  const uploadId = await fileSha256(path);
  const bucket = new GridFSBucket(db, { bucketName: BUCKETS.uploads });
  const fileName = basename(path);
  if ((await bucket.find({ _id: uploadId as never }).limit(1).toArray()).length === 0) {
    await pipeline(createReadStream(path), bucket.openUploadStreamWithId(uploadId as never, fileName, { metadata: { sha256: uploadId, bytes: size } })).catch((err: { code?: number }) => {
      if (!isDuplicateKey(err)) throw err;
    });
  }
  return { uploadId, fileName, bytes: size };
}

export async function uploadInfo(db: Db, uploadId: string): Promise<{ bytes: number; fileName: string } | null> {
  const files = await new GridFSBucket(db, { bucketName: BUCKETS.uploads }).find({ _id: uploadId as never }).limit(1).toArray();
  const f = files[0];
  return f ? { bytes: f.length, fileName: f.filename } : null;
}
