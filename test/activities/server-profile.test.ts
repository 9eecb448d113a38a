import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, MongoClient } from 'mongodb';
import { serverProfile } from '../../store/server';
import { COLLECTIONS, ensureIndexes, INDEXES, indexName } from '../../store/collections';
import { testStack, uniqueDbName } from '../helpers/stack';
import { openDb } from '../helpers/ingest';

let client: MongoClient;
let db: Db;
beforeAll(async () => {
  ({ client, db } = await openDb(testStack().mongoUri, uniqueDbName(import.meta.url)));
});
afterAll(async () => client?.close());

describe('serverProfile against the test stack', () => {
  it('when the test stack runs FerretDB (no mongod on PATH), then it is detected and keeps the FerretDB limits; a mongod gets the driver batching', async () => {
    const p = await serverProfile(db);
    const info = await db.admin().command({ buildInfo: 1 });
    expect(p.kind).toBe(typeof info.ferretdbVersion === 'string' ? 'ferretdb' : 'mongodb');
    if (p.kind === 'ferretdb') expect(p).toMatchObject({ maxBulkOps: 50, chunkBatch: 16 });
    expect(await serverProfile(db)).toBe(p); // asked once per client
  });

  // FerretDB 1.24 answers every query by scanning the table (explain: SCAN, filterPushdown false),
  // so a secondary index there is only a cost on every write (4x on 1,000 inserts, measured):
  // only the unique ones, which are constraints, are made, and those from earlier starts dropped.
  it('when the indexes are ensured, then FerretDB keeps only the unique ones (and loses old secondary ones) and MongoDB gets them all', async () => {
    const users = db.collection(COLLECTIONS.users);
    await users.createIndex({ firstOpen: 1 }); // as an earlier release made it
    await ensureIndexes(db);
    await ensureIndexes(db); // idempotent
    const ferret = (await serverProfile(db)).kind === 'ferretdb';
    for (const ix of INDEXES) {
      const names = (await db.collection(ix.collection).listIndexes().toArray().catch(() => [])).map((i) => i.name as string); // no collection: no index
      expect(names.includes(indexName(ix.key)), `${ix.collection} ${indexName(ix.key)}`).toBe(!ferret || ix.unique === true);
    }
    const dup = db.collection(COLLECTIONS.modelVersions);
    await dup.insertOne({ modelName: 'm', version: 1, runId: 'r1' });
    await expect(dup.insertOne({ modelName: 'm', version: 1, runId: 'r2' })).rejects.toThrow(/duplicate key/i);
  });
});
