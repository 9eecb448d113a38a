import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../store/collections';
import { resolveWithOutcomes, writeUserChunk, type UserDoc } from '../../store/users';
import type { UserRecord } from '../../data/record';
import { testStack, uniqueDbName } from '../helpers/stack';
import { openDb } from '../helpers/ingest';

/**
 * Re-observing stored users (the daily export's yesterday cohort) replaces their documents. On
 * FerretDB that is a staged delete + insert (store/replace.ts); these tests put the database in
 * the state a crash would leave between the steps and check that the next attempt of the same
 * chunk ends with exactly the documents and counts of an uninterrupted write: no user lost, no
 * purchase forgotten.
 */
const H = 3_600_000;
const T0 = Date.UTC(2026, 5, 1);
const N = 240;
let client: MongoClient;
let base: string;
const opened: Db[] = [];

function user(i: number, asOf: number, bought: boolean): UserRecord {
  const firstOpen = T0 + i * 60_000;
  const purchaseDate = bought && asOf >= firstOpen + 2 * H ? firstOpen + 2 * H : null;
  const label = purchaseDate !== null ? 1 : 0;
  return { userId: `u${String(i).padStart(4, '0')}`, firstOpen, screens: ['home', i % 2 ? 'cart' : 'shop'], age: 20 + (i % 40), numscreens: 2, purchaseDate, label, extra: {} };
}
/** Day 1 cut 1 h after the last open (everyone pending), day 2 a day later (windows closed, a third bought). */
const day1AsOf = T0 + N * 60_000 + H;
const day2AsOf = day1AsOf + 24 * H;
const day1 = Array.from({ length: N }, (_, i) => user(i, day1AsOf, i % 3 === 0));
const day2 = Array.from({ length: N }, (_, i) => user(i, day2AsOf, i % 3 === 0));

async function freshDb(label: string): Promise<Db> {
  const db = client.db(`${base}_${label}`.slice(0, 60));
  opened.push(db);
  await writeUserChunk(db, 'day1', day1, new Date(0), day1AsOf);
  return db;
}
const docs = async (db: Db) => {
  const all = await db.collection<UserDoc>(COLLECTIONS.users).find({}, { projection: { ingestedAt: 0 } }).toArray();
  return all.sort((a, b) => a._id.localeCompare(b._id));
};

beforeAll(async () => {
  base = uniqueDbName(import.meta.url);
  ({ client } = await openDb(testStack().mongoUri, base));
}, 60_000);

afterAll(async () => {
  for (const db of opened) await db.dropDatabase().catch(() => undefined);
  await client?.close();
});

describe('replacing re-observed users', () => {
  it('a re-observation replaces every changed user whole, keeps its creating batch, and leaves nothing staged', async () => {
    const db = await freshDb('plain');
    const before = await docs(db);
    expect(before.every((d) => d.labelStatus === 'pending')).toBe(true);
    const counts = await writeUserChunk(db, 'day2', day2, new Date(1), day2AsOf);
    expect(counts).toEqual({ inserted: 0, updated: N, unchanged: 0, pending: 0 });
    const after = await docs(db);
    expect(after).toHaveLength(N);
    expect(after.filter((d) => d.label === 1)).toHaveLength(N / 3);
    expect(after.every((d) => d.createdBatch === 'day1' && d.lastBatch === 'day2' && d.labelStatus === 'matured')).toBe(true);
    expect(await db.collection(COLLECTIONS.replacements).countDocuments({})).toBe(0);
    // Same file again: nothing to write.
    expect(await writeUserChunk(db, 'day2b', day2, new Date(2), day2AsOf)).toEqual({ inserted: 0, updated: 0, unchanged: N, pending: 0 });
  });

  it.each([
    ['after the delete, before the insert', true],
    ['after staging, before the delete', false],
  ])('a crash %s: the retried chunk restores the same documents and counts', async (label, deleted) => {
    const reference = await freshDb(`ref_${deleted}`);
    const expected = await writeUserChunk(reference, 'day2', day2, new Date(1), day2AsOf);
    const want = await docs(reference);

    const db = await freshDb(`crash_${deleted}`);
    // The state replaceById leaves at the crash: the new documents staged under the batch's tag,
    // and (on FerretDB, where replacement is delete + insert) the old ones possibly deleted.
    const staged = await reference.collection<UserDoc>(COLLECTIONS.users).find({}).toArray();
    await db.collection<{ _id: string }>(COLLECTIONS.replacements).insertMany(staged.map((doc) => ({ _id: `users\u0000day2\u0000${doc._id}`, col: COLLECTIONS.users, tag: 'day2', stagedAt: new Date(), doc })));
    if (deleted) await db.collection<UserDoc>(COLLECTIONS.users).deleteMany({ _id: { $in: staged.slice(0, N / 2).map((d) => d._id) } });

    const retried = await writeUserChunk(db, 'day2', day2, new Date(1), day2AsOf);
    expect(retried).toEqual(expected);
    expect(await docs(db)).toEqual(want);
    expect(await db.collection(COLLECTIONS.replacements).countDocuments({})).toBe(0);
  });

  it('reported outcomes go through the same replacement and resolve buyers', async () => {
    const db = await freshDb('outcomes');
    const boughtBefore = (await docs(db)).filter((d) => d.purchaseDate !== null).length;
    const buyers = day1.filter((_, i) => i % 3 === 1).map((u) => ({ userId: u.userId, purchaseAt: u.firstOpen + 3 * H }));
    expect(await resolveWithOutcomes(db, buyers)).toBe(buyers.length);
    const after = await docs(db);
    expect(after).toHaveLength(N);
    expect(after.filter((d) => d.purchaseDate !== null)).toHaveLength(boughtBefore + buyers.length);
    expect(await db.collection(COLLECTIONS.replacements).countDocuments({})).toBe(0);
    // Reporting them again changes nothing.
    expect(await resolveWithOutcomes(db, buyers)).toBe(0);
  });

});
