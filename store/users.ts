import { MongoBulkWriteError, type AnyBulkWriteOperation, type Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import { bulkWriteInBatches } from './bulk';
import { purchasedWithin24h, type UserRecord } from '../data/record';
import { sha256 } from './blobs';

/** A stored user: the canonical record plus provenance. */
export interface UserDoc extends Omit<UserRecord, 'userId'> {
  _id: string;
  /** {@link recordHash} of the stored fields (after label merging), so equality means "nothing to write". */
  contentHash: string;
  createdBatch: string;
  lastBatch: string;
  ingestedAt: Date;
}

/** What one chunk write did; `unchanged` counts rows identical to what was stored. */
export interface ChunkWriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

const DUPLICATE_KEY = 11000;

/** Hash of the fields that matter, so an identical row from another file is "unchanged". */
export function recordHash(r: UserRecord): string {
  return sha256(Buffer.from(JSON.stringify([r.firstOpen, r.screens, r.age, r.numscreens, r.purchaseDate, r.label, r.extra])));
}

/**
 * The record to store when `incoming` meets what is stored. A file without a purchase column
 * (label null) never erases a known purchase: the stored purchase date is kept and the label is
 * recomputed against the incoming first_open with the 24 h rule. A file with the column is
 * authoritative, an empty cell included (DATA.md: empty means no purchase).
 */
export function mergeRecord(incoming: UserRecord, stored: Pick<UserDoc, 'label' | 'purchaseDate'> | null): UserRecord {
  if (incoming.label !== null || stored === null || stored.label === null || stored.label === undefined) return incoming;
  const purchaseDate = stored.purchaseDate ?? null;
  return { ...incoming, purchaseDate, label: purchasedWithin24h(incoming.firstOpen, purchaseDate) };
}

function toDoc(r: UserRecord, batchId: string, now: Date): UserDoc {
  const { userId, ...fields } = r;
  return { _id: userId, ...fields, contentHash: recordHash(r), createdBatch: batchId, lastBatch: batchId, ingestedAt: now };
}

type StoredHead = Pick<UserDoc, '_id' | 'contentHash' | 'label' | 'purchaseDate' | 'createdBatch' | 'lastBatch'>;

/**
 * Writes one chunk of records (distinct user ids) for a batch and says what it did.
 *
 * Insert first, unordered: new users cost one bulk insert and no lookup. Only ids the insert
 * reports as duplicates are read back (one `$in` query) and compared by content hash; changed
 * ones get a `$set`. This matters on FerretDB 1.24 / SQLite, where every `_id` lookup, update or
 * delete scans the table (its `_id` index is never used) while inserts use the unique index:
 * an existence lookup before every chunk made a fresh ingest quadratic.
 *
 * Re-running a chunk (a retried activity) writes nothing: ids already written by this batch
 * (`lastBatch === batchId`) are counted as inserted/updated from their provenance, so the
 * counts of a resumed ingest equal those of an uninterrupted one.
 */
export async function writeUserChunk(db: Db, batchId: string, records: UserRecord[], now: Date): Promise<ChunkWriteCounts> {
  const counts: ChunkWriteCounts = { inserted: 0, updated: 0, unchanged: 0 };
  if (records.length === 0) return counts;
  const users = db.collection<UserDoc>(COLLECTIONS.users);
  const dupIndexes: number[] = [];
  try {
    const res = await users.insertMany(records.map((r) => toDoc(r, batchId, now)), { ordered: false });
    counts.inserted += res.insertedCount;
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    const other = errors.find((e) => e.code !== DUPLICATE_KEY);
    if (other) throw err;
    counts.inserted += err.result.insertedCount;
    for (const e of errors) dupIndexes.push(e.index);
  }
  if (dupIndexes.length === 0) return counts;

  const dup = new Set(dupIndexes);
  const existing = records.filter((_, i) => dup.has(i));
  const stored = new Map<string, StoredHead>();
  const projection = { contentHash: 1, label: 1, purchaseDate: 1, createdBatch: 1, lastBatch: 1 };
  for await (const d of users.find({ _id: { $in: existing.map((r) => r.userId) } }, { projection })) stored.set(d._id, d as StoredHead);

  const ops: AnyBulkWriteOperation<UserDoc>[] = [];
  for (const r of existing) {
    const prev = stored.get(r.userId);
    // Deleted between our insert and the read: let the activity retry the chunk.
    if (!prev) throw new Error(`user ${r.userId} vanished while batch ${batchId} was writing it`);
    if (prev.lastBatch === batchId) {
      // Written by an earlier attempt of this same chunk (each user occurs once per pass).
      if (prev.createdBatch === batchId) counts.inserted++;
      else counts.updated++;
      continue;
    }
    const merged = mergeRecord(r, prev);
    const hash = recordHash(merged);
    if (hash === prev.contentHash) {
      counts.unchanged++;
      continue;
    }
    const { userId, ...fields } = merged;
    ops.push({ updateOne: { filter: { _id: userId }, update: { $set: { ...fields, contentHash: hash, lastBatch: batchId, ingestedAt: now } } } });
  }
  if (ops.length > 0) {
    // In batches: FerretDB hangs on 100+ updates of existing documents in one command (store/bulk.ts).
    const res = await bulkWriteInBatches(users, ops);
    if (res.matched !== ops.length) throw new Error(`batch ${batchId}: ${ops.length - res.matched} users vanished while being updated`);
    counts.updated += ops.length;
  }
  return counts;
}

export function docToRecord(d: UserDoc): UserRecord {
  return {
    userId: d._id,
    firstOpen: d.firstOpen,
    screens: d.screens,
    age: d.age,
    numscreens: d.numscreens,
    purchaseDate: d.purchaseDate,
    label: d.label,
    extra: d.extra ?? {},
  };
}

/**
 * Labelled users as columns (typed arrays, screens as codes into one name table), read in one
 * cursor pass in a stable order (by id) so snapshots are reproducible. A million users as
 * `UserRecord` objects take many hundreds of MB of heap (one string per screen visit); as columns
 * they take ~100 MB, and {@link columnRecord} rebuilds one record at a time when needed.
 * `visit` sees every record once, in order (for digests), before it is dropped.
 */
export interface UserColumns {
  rows: number;
  ids: string[];
  firstOpen: Float64Array;
  /** NaN = null. */
  age: Float64Array;
  numscreens: Float64Array;
  purchaseDate: Float64Array;
  label: Uint8Array;
  /** Screens of row i: names[codes[offsets[i] .. offsets[i + 1])], order kept. */
  screenOffsets: Int32Array;
  screenCodes: Int32Array;
  screenNames: string[];
  /** Pass-through value per name and row; NaN = absent for that user. */
  extra: Map<string, Float64Array>;
}

function grow<T extends Float64Array | Int32Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  if (b instanceof Float64Array) b.fill(Number.NaN, a.length);
  return b;
}

export async function loadLabelledColumns(db: Db, visit?: (u: UserRecord) => void): Promise<UserColumns> {
  let cap = 1024;
  const c: UserColumns = {
    rows: 0, ids: [], firstOpen: new Float64Array(cap), age: new Float64Array(cap), numscreens: new Float64Array(cap),
    purchaseDate: new Float64Array(cap), label: new Uint8Array(cap), screenOffsets: new Int32Array(cap + 1),
    screenCodes: new Int32Array(cap * 8), screenNames: [], extra: new Map(),
  };
  const codeOf = new Map<string, number>();
  let nCodes = 0;
  // Provenance fields are never read here; leaving them on the server saves decoding a million of them.
  const projection = { contentHash: 0, createdBatch: 0, lastBatch: 0, ingestedAt: 0 };
  const cur = db.collection<UserDoc>(COLLECTIONS.users).find({ label: { $in: [0, 1] } }, { projection }).sort({ _id: 1 });
  for await (const d of cur) {
    const u = docToRecord(d as UserDoc);
    visit?.(u);
    const i = c.rows++;
    if (i >= cap) {
      cap *= 2;
      for (const k of ['firstOpen', 'age', 'numscreens', 'purchaseDate', 'label'] as const) (c as unknown as Record<string, Float64Array>)[k] = grow(c[k] as Float64Array, cap);
      c.screenOffsets = grow(c.screenOffsets, cap + 1);
      for (const [k, v] of c.extra) c.extra.set(k, grow(v, cap));
    }
    c.ids.push(u.userId);
    c.firstOpen[i] = u.firstOpen;
    c.age[i] = u.age ?? Number.NaN;
    c.numscreens[i] = u.numscreens;
    c.purchaseDate[i] = u.purchaseDate ?? Number.NaN;
    c.label[i] = u.label ?? 0;
    c.screenCodes = grow(c.screenCodes, nCodes + u.screens.length);
    for (const s of u.screens) {
      let code = codeOf.get(s);
      if (code === undefined) {
        code = c.screenNames.length;
        codeOf.set(s, code);
        c.screenNames.push(s);
      }
      c.screenCodes[nCodes++] = code;
    }
    c.screenOffsets[i + 1] = nCodes;
    for (const [k, v] of Object.entries(u.extra)) {
      let col = c.extra.get(k);
      if (!col) c.extra.set(k, (col = new Float64Array(cap).fill(Number.NaN)));
      col[i] = v;
    }
  }
  return c;
}

/** Row i of {@link loadLabelledColumns} as a record again (fields equal to the stored user's). */
export function columnRecord(c: UserColumns, i: number): UserRecord {
  const screens = new Array<string>(c.screenOffsets[i + 1]! - c.screenOffsets[i]!);
  for (let j = 0; j < screens.length; j++) screens[j] = c.screenNames[c.screenCodes[c.screenOffsets[i]! + j]!]!;
  const extra: Record<string, number> = {};
  for (const [k, v] of c.extra) if (!Number.isNaN(v[i]!)) extra[k] = v[i]!;
  const age = c.age[i]!;
  const purchaseDate = c.purchaseDate[i]!;
  return {
    userId: c.ids[i]!, firstOpen: c.firstOpen[i]!, screens, age: Number.isNaN(age) ? null : age, numscreens: c.numscreens[i]!,
    purchaseDate: Number.isNaN(purchaseDate) ? null : purchaseDate, label: c.label[i] as 0 | 1, extra,
  };
}

export async function countUsers(db: Db, filter: Record<string, unknown> = {}): Promise<number> {
  return db.collection(COLLECTIONS.users).countDocuments(filter);
}
