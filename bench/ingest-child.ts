/**
 * One measured ingest in its own process, so its peak RSS is the ingest's alone (bench/ingest.ts
 * spawns it): `npx tsx bench/ingest-child.ts <retail24|insertmany> <mongoUri> <db> <csv>`.
 * Prints one JSON line: rows, seconds, peak RSS (VmHWM, the kernel's high-water mark).
 */
import { readFileSync, createReadStream } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { connectStore } from '../store/db';
import { ensureIndexes, COLLECTIONS } from '../store/collections';
import { uploadFile } from '../store/uploads';
import { recordHash } from '../store/users';
import { createIngestActivities, CHUNK_ROWS } from '../activities/ingest';
import { readUserLogs } from '../data/csv-reader';
import { loadConfig } from '../config';
import type { IngestSummary } from '../common/workflow-types';

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

const [kind, uri, dbName, csv] = process.argv.slice(2) as [string, string, string, string];
const store = await connectStore(uri, dbName);
try {
  await ensureIndexes(store.db);
  let rows = 0;
  let extra: Record<string, unknown> = {};
  const t0 = performance.now();
  if (kind === 'retail24') {
    const up = await uploadFile(store.db, csv);
    const tUp = performance.now();
    const config = loadConfig({ MONGODB_URI: uri, MONGODB_DB: dbName });
    const { ingestUpload } = createIngestActivities({ db: store.db, config, workerIdentity: 'bench' });
    const s: IngestSummary = await new MockActivityEnvironment().run(ingestUpload, { uploadId: up.uploadId, fileName: up.fileName, rejectLimit: config.REJECT_LIMIT });
    rows = s.inserted + s.updated + s.unchanged;
    extra = { upload_s: (tUp - t0) / 1000, summary: s };
  } else if (kind === 'insertmany') {
    // mongoimport-style: the same parser, documents of the same shape, insertMany of the same
    // chunk size; no validation pass, no duplicate skipping, no checkpoints, no upload.
    const users = store.db.collection(COLLECTIONS.users);
    const now = new Date();
    let docs: object[] = [];
    for await (const row of readUserLogs(createReadStream(csv), { fileName: csv })) {
      if (row.kind !== 'ok') continue;
      const { userId, ...fields } = row.record;
      docs.push({ _id: userId, ...fields, contentHash: recordHash(row.record), createdBatch: 'baseline', lastBatch: 'baseline', ingestedAt: now });
      if (docs.length >= CHUNK_ROWS) {
        rows += (await users.insertMany(docs as never[], { ordered: false })).insertedCount;
        docs = [];
      }
    }
    if (docs.length > 0) rows += (await users.insertMany(docs as never[], { ordered: false })).insertedCount;
  } else {
    throw new RangeError(`kind must be retail24 or insertmany, got ${JSON.stringify(kind)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ kind, rows, seconds, peak_rss_mb: Math.round(peakRssMb()), ...extra }));
} finally {
  await store.db.dropDatabase().catch(() => undefined);
  await store.close();
}
