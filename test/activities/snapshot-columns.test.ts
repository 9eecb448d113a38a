import type { Db, MongoClient } from 'mongodb';
import { MongoClient as Client } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../store/collections';
import { columnRecord, countLabelStates, latestFirstOpen, tallyUsers, usersInWindow, usersInWindows, docToRecord, loadLabelledColumns, recordHash, type UserDoc } from '../../store/users';
import { fitFeatureSpec, transformBatch } from '../../data/features';
import { referenceHistograms } from '../../ml/drift';
import { loadDataset, loadDatasetUsers } from '../../store/datasets';
import { createFeatureActivities } from '../../activities/features';
import { loadConfig } from '../../config';
import { MockActivityEnvironment } from '@temporalio/testing';
import { LABEL_WINDOW_MS, type UserRecord } from '../../data/record';
import { testStack, uniqueDbName } from '../helpers/stack';

/** Users covering every field shape the columns must round-trip: null age, no screens, repeated screens, absent/present extras, no purchase. */
function users(n: number): UserRecord[] {
  const names = ['home', 'cart', 'product_details', 'search', 'checkout', 'promo_banner', 'help'];
  return Array.from({ length: n }, (_, i) => {
    const screens = Array.from({ length: (i * 7) % 9 }, (_, j) => names[(i + j * 3) % names.length]!);
    const label = (i % 5 === 0 ? 1 : 0) as 0 | 1;
    return {
      userId: `u${String(n - i).padStart(5, '0')}`, firstOpen: Date.UTC(2026, 0, 1) + i * 3_600_123, screens,
      age: i % 11 === 0 ? null : 18 + (i % 50), numscreens: screens.length + (i % 3),
      purchaseDate: label ? Date.UTC(2026, 0, 1) + i * 3_600_123 + 60_000 : null, label,
      extra: (i % 4 === 0 ? { minigame: 1 } : { minigame: 0, liked: i % 2 }) as Record<string, number>,
    };
  });
}

describe('snapshot from columns', () => {
  let client: MongoClient;
  let db: Db;
  const input = users(300);
  const newestPending = Math.max(...input.map((u) => u.firstOpen)) + 3_600_000;

  beforeAll(async () => {
    client = await Client.connect(testStack().mongoUri);
    db = client.db(uniqueDbName(import.meta.url));
    const docs: UserDoc[] = input.map(({ userId, ...f }) => ({
      _id: userId, ...f, labelStatus: 'matured' as const, maturesAt: f.firstOpen + LABEL_WINDOW_MS, asOf: f.firstOpen + LABEL_WINDOW_MS, observedAt: f.firstOpen + LABEL_WINDOW_MS,
      contentHash: recordHash({ userId, ...f }), createdBatch: 'b', lastBatch: 'b', ingestedAt: new Date(),
    }));
    // One unlabelled user: never part of a snapshot.
    docs.push({ ...docs[0]!, _id: 'unlabelled', label: null, labelStatus: 'unlabelled', observedAt: null });
    // Two pending users (window still open at the export): neither matured nor unlabelled; the
    // second is the newest user, as pending users are, so a tally over matured users only misses it.
    docs.push({ ...docs[1]!, _id: 'pending-1', label: null, labelStatus: 'pending' }, { ...docs[2]!, _id: 'pending-2', label: null, labelStatus: 'pending', firstOpen: newestPending });
    await db.collection<UserDoc>(COLLECTIONS.users).insertMany(docs);
  });

  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  // The users were inserted in descending id order, so storage order is the reverse of id order:
  // columns left in the order the (unsorted) cursor returns would fail here.
  it('when labelled users are loaded as columns, then each row rebuilds the stored record in id order, with its digest', async () => {
    const stored = await db.collection<UserDoc>(COLLECTIONS.users).find({ label: { $in: [0, 1] } }).sort({ _id: 1 }).toArray();
    const visited: string[] = [];

    const cols = await loadLabelledColumns(db, (u) => visited.push(u.userId), { digests: true });

    expect(cols.rows).toBe(input.length);
    expect(visited.slice().sort()).toEqual(stored.map((d) => d._id));
    expect(visited).not.toEqual(stored.map((d) => d._id));
    expect(Array.from({ length: cols.rows }, (_, i) => columnRecord(cols, i))).toEqual(stored.map(docToRecord));
    expect(Array.from({ length: cols.rows }, (_, i) => Buffer.from(cols.digests!.subarray(32 * i, 32 * i + 32)).toString('hex'))).toEqual(stored.map((d) => recordHash(docToRecord(d))));
    // the same pass counted every user's label state (the snapshot no longer reads the users twice)
    expect(cols.states).toEqual(await countLabelStates(db));
    expect(cols.states).toEqual({ matured: input.length, pending: 2, unlabelled: 1 });
  });

  it('when label states are counted (streamed on FerretDB, countDocuments on MongoDB), then they match per-state counts', async () => {
    const users = db.collection<UserDoc>(COLLECTIONS.users);
    expect(await countLabelStates(db)).toEqual({
      matured: await users.countDocuments({ label: { $in: [0, 1] } }),
      pending: await users.countDocuments({ labelStatus: 'pending' }),
      unlabelled: await users.countDocuments({ labelStatus: 'unlabelled' }),
    });
    expect(await countLabelStates(db)).toEqual({ matured: input.length, pending: 2, unlabelled: 1 });
  });

  it('when users are tallied in one pass, then the total and the newest first open match the per-field queries', async () => {
    const users = db.collection<UserDoc>(COLLECTIONS.users);
    const newest = (await users.find({}).sort({ firstOpen: -1 }).limit(1).toArray())[0]!.firstOpen;
    const t = await tallyUsers(db);
    expect(t).toEqual({ ...(await countLabelStates(db)), total: await users.countDocuments({}), latestFirstOpen: newest });
    expect(t.latestFirstOpen).toBe(newestPending);
    expect(t.total).toBe(input.length + 3);
    // the monitor's and the drift sample's own read (a streamed maximum on FerretDB, the index on MongoDB)
    expect(await latestFirstOpen(db)).toBe(newestPending);
  });

  it('when two windows from one start are read at once, then each list equals its own read (matured-only, a closer end, an exclusion and a limit that fills first)', async () => {
    // users are an hour apart: 300 hours of matured users, then the newest pending one
    const from = newestPending - 200 * 3_600_000;
    const exclude = new Set(['u00010', 'u00011']);
    const closed = { to: newestPending - 30 * 3_600_000, maturedOnly: true, limit: 40 };
    const recent = { to: newestPending, maturedOnly: false, limit: 500 };
    const [a, b] = await usersInWindows(db, { from, exclude, takes: [closed, recent] });
    expect(a).toEqual(await usersInWindow(db, { from, exclude, ...closed }));
    expect(b).toEqual(await usersInWindow(db, { from, exclude, ...recent }));
    expect(a).toHaveLength(40); // the limit filled before the read ended
    expect(a!.every((u) => u.label !== null && u.firstOpen <= closed.to)).toBe(true);
    expect(b!.length).toBeGreaterThan(150); // ~200 hours of users
    expect(b![0]!.userId).toBe('pending-2'); // the newest is pending: the matured-only take must not filter the shared read
    expect(a!.some((u) => u.userId === 'pending-2')).toBe(false);
    expect(b!.some((u) => exclude.has(u.userId))).toBe(false);
    expect(b!.map((u) => u.firstOpen)).toEqual(b!.map((u) => u.firstOpen).sort((x, y) => y - x));
  });

  it('when a snapshot is built, then its matrix equals transformBatch over the stored records', async () => {
    const settings = { splitStrategy: 'hash' as const, holdoutFraction: 0.2, seed: 42 };
    const { buildSnapshot } = createFeatureActivities({ db, config: loadConfig({}), workerIdentity: 'test' });

    const summary = (await new MockActivityEnvironment().run(buildSnapshot, settings)) as { datasetId: string };

    const ds = (await loadDataset(db, summary.datasetId))!;
    const records = (await db.collection<UserDoc>(COLLECTIONS.users).find({ label: { $in: [0, 1] } }).sort({ _id: 1 }).toArray()).map(docToRecord);
    const spec = fitFeatureSpec(Array.from(ds.arrays.train, (i) => records[i]!));
    expect(ds.doc.spec).toEqual(spec);
    expect(Array.from(ds.arrays.X)).toEqual(Array.from(transformBatch(spec, records)));
    expect((await loadDatasetUsers(db, summary.datasetId))!.users.holdoutUserIds).toEqual(Array.from(ds.arrays.holdout, (i) => records[i]!.userId));
  });
});

// The snapshot makes its matrix 4,096 rows at a time and streams it into the store (it never
// holds it whole), gathering the reference histograms of the training rows on the way.
describe('a snapshot streamed in chunks', () => {
  let client: MongoClient;
  let db: Db;
  const input = users(9000); // three chunks: 4,096 + 4,096 + 808

  beforeAll(async () => {
    client = await Client.connect(testStack().mongoUri);
    db = client.db(uniqueDbName(`${import.meta.url}-chunks`));
    await db.collection<UserDoc>(COLLECTIONS.users).insertMany(input.map(({ userId, ...f }) => ({
      _id: userId, ...f, labelStatus: 'matured' as const, maturesAt: f.firstOpen + LABEL_WINDOW_MS, asOf: f.firstOpen + LABEL_WINDOW_MS, observedAt: f.firstOpen + LABEL_WINDOW_MS,
      contentHash: recordHash({ userId, ...f }), createdBatch: 'b', lastBatch: 'b', ingestedAt: new Date(),
    })));
  }, 60_000);
  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  it('when the matrix spans several chunks, then it equals transformBatch over every record and the histograms are those of its training rows', async () => {
    const settings = { splitStrategy: 'hash' as const, holdoutFraction: 0.2, seed: 42 };
    const { buildSnapshot } = createFeatureActivities({ db, config: loadConfig({}), workerIdentity: 'test' });
    const summary = (await new MockActivityEnvironment().run(buildSnapshot, settings)) as { datasetId: string };

    const ds = (await loadDataset(db, summary.datasetId))!;
    const records = input.map((u) => u).sort((a, b) => (a.userId < b.userId ? -1 : 1));
    expect(Array.from(ds.arrays.X)).toEqual(Array.from(transformBatch(ds.doc.spec, records)));
    expect(ds.doc.referenceHistograms).toEqual(referenceHistograms(ds.doc.names, ds.arrays.X, ds.doc.rows, 10, ds.arrays.train));

    // A retry after the matrix was stored and before the document: the matrix is not made again
    // for the upload, but the histograms still are (not an empty sketch).
    await db.collection(COLLECTIONS.datasets).deleteMany({});
    await new MockActivityEnvironment().run(buildSnapshot, settings);
    const again = (await db.collection(COLLECTIONS.datasets).findOne({ _id: summary.datasetId as never }))!;
    expect(again.referenceHistograms).toEqual(ds.doc.referenceHistograms);
    expect(again.blobSha256).toBe(ds.doc.blobSha256);
  });
});
