/** Shared helpers of the ingest integration tests (activities, workflows, e2e). */
import { afterAll, beforeAll } from 'vitest';
import { BSON, MongoClient, type Db } from 'mongodb';
import { COLLECTIONS, ensureIndexes } from '../../store/collections';
import type { UserDoc } from '../../store/users';
import { testStack, uniqueDbName } from './stack';

export const FIXTURES = new URL('../fixtures/ingest/', import.meta.url).pathname;

/** Opens the test database (and creates the indexes the worker would). */
export async function openDb(uri: string, dbName: string): Promise<{ client: MongoClient; db: Db }> {
  const client = await new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 }).connect();
  const db = client.db(dbName);
  await ensureIndexes(db);
  return { client, db };
}

/**
 * A database of its own for the test file at `fileUrl` (its `import.meta.url`) on the shared test
 * stack: opened before the file's tests (handed to `use`), dropped and closed after them.
 */
export function useFileDb(fileUrl: string, use: (db: Db) => void): void {
  let client: MongoClient | undefined;
  let db: Db | undefined;
  beforeAll(async () => {
    ({ client, db } = await openDb(testStack().mongoUri, uniqueDbName(fileUrl)));
    use(db);
  }, 60_000);
  afterAll(async () => {
    await db?.dropDatabase().catch(() => undefined);
    await client?.close();
  });
}

/** Every user document as canonical extended JSON, sorted by id: equal strings = byte-identical users. */
export async function usersSnapshot(db: Db): Promise<string> {
  const docs = await db.collection<UserDoc>(COLLECTIONS.users).find({}).toArray();
  docs.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  return BSON.EJSON.stringify(docs, { relaxed: false });
}

/** Sorted `(_id, contentHash)` pairs: what two ingests of the same data must agree on. */
export async function userHashes(db: Db): Promise<string[]> {
  const out: string[] = [];
  for await (const d of db.collection<UserDoc>(COLLECTIONS.users).find({}, { projection: { contentHash: 1 } })) out.push(`${d._id} ${d.contentHash}`);
  return out.sort();
}
