import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config';
import { createIngestActivities } from '../../activities/ingest';
import { generateToFiles } from '../../data/generator';
import { uploadFile } from '../../store/uploads';
import { COLLECTIONS } from '../../store/collections';
import { countLabelStates, type UserDoc } from '../../store/users';
import { listRejects } from '../../store/batches';
import type { IngestSummary } from '../../common/workflow-types';
import { testEnv, testStack, uniqueDbName } from '../helpers/stack';
import { openDb } from '../helpers/ingest';

/**
 * Label maturity through the real ingest path (activity + MongoDB-protocol server), scored
 * against the generator's truth file: the export cut at its last first open has users inside
 * their window; they must be pending (never 0) and resolve to their eventual label from the
 * next export, in either order of arrival.
 */
const USERS = 3000;
const H = 3_600_000;
const tmp = mkdtempSync(join(tmpdir(), 'retail24-maturity-'));
let client: MongoClient;
const dbs: Record<string, Db> = {};
let cut: { out: string; asOf: number; pending: number; open: number };
let later: { out: string };
let truth: Map<string, { label: number; pending: number }>;

function readTruth(file: string) {
  const rows = readFileSync(file, 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split(','));
  return new Map(rows.map(([id, , label, pending]) => [id!, { label: Number(label), pending: Number(pending) }]));
}
async function ingest(db: Db, path: string, asOf?: number): Promise<IngestSummary> {
  const up = await uploadFile(db, path);
  const { ingestUpload } = createIngestActivities({ db, config: loadConfig(testEnv(db.databaseName)), workerIdentity: 'test' });
  return new MockActivityEnvironment().run(ingestUpload, { uploadId: up.uploadId, fileName: up.fileName, rejectLimit: 1, ...(asOf === undefined ? {} : { asOf }) });
}
const users = (db: Db) => db.collection<UserDoc>(COLLECTIONS.users).find({}).toArray();

beforeAll(async () => {
  const s = await generateToFiles({ users: USERS, seed: 7, cutoffHours: 0, out: join(tmp, 'day1.csv') });
  // Users inside their window at the cut, bought or not: all of them wait (DATA.md's pending
  // users, the truth file's `pending`, plus early buyers who must not enter training before their peers).
  const opens = readFileSync(s.out, 'utf8').trimEnd().split('\n').slice(1).map((l) => Date.parse(`${l.split(',')[1]!.replace(' ', 'T')}Z`));
  cut = { out: s.out, asOf: s.asOf!, pending: s.pending, open: opens.filter((t) => s.asOf! - t < 24 * H).length };
  later = await generateToFiles({ users: USERS, seed: 7, asOf: s.asOf! + 48 * H, out: join(tmp, 'day3.csv') });
  truth = readTruth(`${s.out}.truth.csv`);
  ({ client } = await openDb(testStack().mongoUri, uniqueDbName(import.meta.url)));
  for (const k of ['inOrder', 'outOfOrder', 'explicit']) {
    dbs[k] = client.db(`${uniqueDbName(import.meta.url)}-${k}`.slice(0, 60));
  }
}, 120_000);

afterAll(async () => {
  for (const db of Object.values(dbs)) await db.dropDatabase().catch(() => undefined);
  await client?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('label maturity through ingest', () => {
  it('when an export is cut at its last first open, then users inside their window are pending and every matured label is the eventual one', async () => {
    const s = await ingest(dbs.inOrder!, cut.out);
    expect(s.asOf).toBe(new Date(cut.asOf).toISOString());
    expect(s.asOfSource).toBe('latest-in-file');
    // Every user whose window is open at the cut waits, with or without a purchase seen.
    expect(s.pending).toBe(cut.open);
    expect(cut.open).toBeGreaterThan(cut.pending);
    expect(cut.pending).toBeGreaterThan(0);
    const docs = await users(dbs.inOrder!);
    let pendingBuyers = 0;
    for (const d of docs) {
      const t = truth.get(d._id)!;
      if (d.labelStatus === 'pending') {
        expect(d.label).toBeNull(); // never a 0 while the window is open
        expect(d.maturesAt).toBeGreaterThan(cut.asOf);
        pendingBuyers += t.label;
      } else {
        expect(d.label).toBe(t.label);
      }
    }
    // The naive rule would have stored these eventual buyers as non-buyers.
    expect(pendingBuyers).toBeGreaterThan(0);
    expect(await countLabelStates(dbs.inOrder!)).toEqual({ matured: USERS - cut.open, pending: cut.open, unlabelled: 0 });
  });

  it('when the next export (48 h later) arrives, then every pending user resolves to its eventual label', async () => {
    const s = await ingest(dbs.inOrder!, later.out);
    expect(s.pending).toBe(0);
    for (const d of await users(dbs.inOrder!)) {
      expect(d.labelStatus).toBe('matured');
      expect(d.label).toBe(truth.get(d._id)!.label);
    }
  });

  it('when the older export is backfilled after the newer one, then no known purchase is lost and nothing becomes pending again', async () => {
    await ingest(dbs.outOfOrder!, later.out);
    const s = await ingest(dbs.outOfOrder!, cut.out);
    expect(s.pending).toBe(0);
    for (const d of await users(dbs.outOfOrder!)) {
      expect(d.labelStatus).toBe('matured');
      expect(d.label).toBe(truth.get(d._id)!.label);
    }
  });

  it('when --as-of is given earlier than some rows, then those rows are rejected naming the field and the others mature against it', async () => {
    const asOf = cut.asOf - 12 * H;
    const s = await ingest(dbs.explicit!, cut.out, asOf);
    expect(s.asOfSource).toBe('given');
    expect(s.asOf).toBe(new Date(asOf).toISOString());
    const rejects = await listRejects(dbs.explicit!, s.batchId, 10_000);
    expect(rejects.length).toBe(s.rejected);
    expect(s.rejected).toBeGreaterThan(0);
    expect(rejects.every((r) => r.reason === 'after-as-of' && /after the file's as-of time/.test(r.detail))).toBe(true);
    for (const d of await users(dbs.explicit!)) {
      expect(d.firstOpen).toBeLessThanOrEqual(asOf);
      if (d.labelStatus === 'pending') expect(d.maturesAt).toBeGreaterThan(asOf);
    }
  });
});
