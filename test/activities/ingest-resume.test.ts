import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config';
import { createIngestActivities, CHUNK_ROWS } from '../../activities/ingest';
import { generateToFiles } from '../../data/generator';
import { uploadFile } from '../../store/uploads';
import { batches } from '../../store/batches';
import type { IngestSummary } from '../../common/workflow-types';
import { testEnv, testStack, uniqueDbName } from '../helpers/stack';
import { openDb, userHashes } from '../helpers/ingest';

// Three chunks; 100 users of the second chunk already exist with other content (same ids, other
// seed), so the re-run chunks mix users this batch inserted with users it updated. Only 100:
// on FerretDB/SQLite every update scans the table.
const USERS = 3 * CHUNK_ROWS;
const PRIOR = 100;
const tmp = mkdtempSync(join(tmpdir(), 'retail24-resume-'));
const names = { resumed: uniqueDbName('ingest-resume-a'), reference: uniqueDbName('ingest-resume-b') };
const clients: MongoClient[] = [];
const dbs: Record<keyof typeof names, Db> = {} as never;

async function ingest(db: Db, dbName: string, csv: string): Promise<IngestSummary> {
  const up = await uploadFile(db, csv);
  const { ingestUpload } = createIngestActivities({ db, config: loadConfig(testEnv(dbName)), workerIdentity: 'test' });
  return new MockActivityEnvironment().run(ingestUpload, { uploadId: up.uploadId, fileName: up.fileName, rejectLimit: 0.05 });
}

beforeAll(async () => {
  // Generated rows are one line each: lines 2002.. are the second chunk's first users.
  await generateToFiles({ users: CHUNK_ROWS + PRIOR, seed: 8, out: join(tmp, 'other-seed.csv') });
  const lines = readFileSync(join(tmp, 'other-seed.csv'), 'utf8').split('\n');
  writeFileSync(join(tmp, 'prior.csv'), [lines[0], ...lines.slice(CHUNK_ROWS + 1, CHUNK_ROWS + 1 + PRIOR), ''].join('\n'));
  await generateToFiles({ users: USERS, seed: 7, out: join(tmp, 'main.csv') });
  for (const k of Object.keys(names) as (keyof typeof names)[]) {
    const o = await openDb(testStack().mongoUri, names[k]);
    clients.push(o.client);
    dbs[k] = o.db;
    await ingest(o.db, names[k], join(tmp, 'prior.csv'));
  }
});

afterAll(async () => {
  for (const db of Object.values(dbs)) await db.dropDatabase().catch(() => undefined);
  await Promise.all(clients.map((c) => c.close()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('ingestUpload resuming from its checkpoint', () => {
  it('when chunks were written after the last checkpoint (a crash before it was saved), then the re-run counts and stores like an uninterrupted ingest', async () => {
    const expected = await ingest(dbs.reference, names.reference, join(tmp, 'main.csv'));
    const full = await ingest(dbs.resumed, names.resumed, join(tmp, 'main.csv'));
    // Rewind the batch to "chunk 1 checkpointed, chunks 2-3 written but not recorded": the
    // state a worker killed right before its second checkpoint leaves behind, and worse.
    await batches(dbs.resumed).updateOne({ _id: full.batchId }, {
      $set: { status: 'writing', checkpoint: { nextLine: CHUNK_ROWS + 2, inserted: CHUNK_ROWS, updated: 0, unchanged: 0, pending: 0 } },
      $unset: { counts: '' },
    });

    const resumed = await ingest(dbs.resumed, names.resumed, join(tmp, 'main.csv'));

    expect(expected).toMatchObject({ read: USERS, inserted: USERS - PRIOR, updated: PRIOR, unchanged: 0 });
    expect(resumed).toEqual(expected);
    expect(await userHashes(dbs.resumed)).toEqual(await userHashes(dbs.reference));
  }, 300_000);
});
