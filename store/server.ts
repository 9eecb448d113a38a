import type { Db, Document, MongoClient } from 'mongodb';

/**
 * What the MongoDB-protocol server behind a connection can take. FerretDB 1.24 needs two limits
 * that a real MongoDB does not (docs/decisions.md): bulk updates of existing documents hang at
 * 100 statements per command, and GridFS chunk reads ignore the 16 MB reply cap. MongoDB gets the
 * driver's own batching.
 */
export interface ServerProfile {
  kind: 'ferretdb' | 'mongodb';
  version: string;
  /** Operations per bulkWrite call; Infinity = one call, the driver splits by its own limits. */
  maxBulkOps: number;
  /** GridFS chunks per reply; undefined = the driver's default (16 MB replies). */
  chunkBatch: number | undefined;
}

/** FerretDB's measured limits (store/bulk.ts, store/blobs.ts). */
export const FERRETDB_LIMITS = { maxBulkOps: 50, chunkBatch: 16 } as const;

/** FerretDB reports itself in buildInfo (`ferretdbVersion`); anything else is treated as MongoDB. */
export function profileFromBuildInfo(info: Document): ServerProfile {
  if (typeof info.ferretdbVersion === 'string') return { kind: 'ferretdb', version: info.ferretdbVersion, ...FERRETDB_LIMITS };
  return { kind: 'mongodb', version: String(info.version ?? 'unknown'), maxBulkOps: Number.POSITIVE_INFINITY, chunkBatch: undefined };
}

const profiles = new WeakMap<MongoClient, Promise<ServerProfile>>();

/**
 * The server's profile, asked once per client. If buildInfo fails the FerretDB limits apply: they
 * are safe on any server, only slower.
 */
export function serverProfile(db: Db): Promise<ServerProfile> {
  const client = db.client;
  let p = profiles.get(client);
  if (!p) {
    p = db.admin().command({ buildInfo: 1 }).then(profileFromBuildInfo, () => ({ kind: 'ferretdb' as const, version: 'unknown', ...FERRETDB_LIMITS }));
    profiles.set(client, p);
  }
  return p;
}
