import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, MongoClient } from 'mongodb';
import { serverProfile } from '../../store/server';
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
});
