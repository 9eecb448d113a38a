import { MongoClient, type Db } from 'mongodb';

/** Thrown when the MongoDB-protocol server cannot be reached within the time bound. */
export class StoreUnavailableError extends Error {
  constructor(readonly uri: string, cause: unknown) {
    super(`cannot reach MongoDB at ${redactUri(uri)}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'StoreUnavailableError';
  }
}

export function redactUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

export interface Store {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

/**
 * Connects and pings with a bounded wait so that an unreachable server fails fast with the
 * address, instead of hanging on the driver's 30 s default.
 */
export async function connectStore(uri: string, dbName: string, timeoutMs = 10_000): Promise<Store> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  try {
    await client.connect();
    await client.db(dbName).command({ ping: 1 });
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new StoreUnavailableError(uri, err);
  }
  return { client, db: client.db(dbName), close: () => client.close() };
}
