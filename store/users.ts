import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { readAhead } from './read-ahead';
import { COLLECTIONS } from './collections';
import { recoverReplacements, recoverStaleReplacements, replaceById } from './replace';
import { insertManyIgnoringDuplicates } from './bulk';
import { LABEL_STATUS, labelAsOf, maturesAt, type LabelStatus, type UserRecord } from '../data/record';
import { sha256 } from './blobs';
import { serverProfile } from './server';

/** A stored user: the canonical record, where its label stands, and provenance. */
export interface UserDoc extends Omit<UserRecord, 'userId'> {
  _id: string;
  /** Pending users have `label: null` until a later observation or a reported outcome resolves them. */
  labelStatus: LabelStatus;
  /** first_open + 24 h: the observation time from which a user without a purchase is a known non-buyer. */
  maturesAt: number;
  /** Observation time of the batch whose first-day fields (screens, age, …) are stored. */
  asOf: number;
  /** Observation time that decided `purchaseDate` and the label; null when no file with purchases has seen the user. */
  observedAt: number | null;
  /** {@link recordHash} of the stored fields (after label merging), so equality means "nothing to write". */
  contentHash: string;
  createdBatch: string;
  lastBatch: string;
  ingestedAt: Date;
}

/** The user fields that observations decide (everything but provenance). */
export type StoredUser = Omit<UserDoc, '_id' | 'contentHash' | 'createdBatch' | 'lastBatch' | 'ingestedAt'> & { userId: string };

/** What one chunk write did; `unchanged` counts rows identical to what was stored; `pending` counts rows still inside their window after the write. */
export interface ChunkWriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  pending: number;
}

/** Replacement tags of outcome calls, and the age after which a call's stage counts as abandoned. */
const OUTCOME_TAG = 'outcomes:';
const STALE_STAGE_MS = 10 * 60_000;

/** Reads that rebuild records leave the provenance fields on the server. */
const NO_PROVENANCE = { contentHash: 0, createdBatch: 0, lastBatch: 0, ingestedAt: 0 } as const;

/**
 * Hash of the fields that matter, so an identical row from another file is "unchanged". The
 * observation times are left out on purpose: a later file saying the same thing is no change.
 */
export function recordHash(r: UserRecord & { labelStatus?: LabelStatus }): string {
  return sha256(Buffer.from(JSON.stringify([r.firstOpen, r.screens, r.age, r.numscreens, r.purchaseDate, r.label, r.extra, r.labelStatus ?? null])));
}

/**
 * One row of a batch observed at `asOf`: a file with a purchase column observes the label (a known
 * 0/1 or pending, {@link labelAsOf}); a file without one observes no label at all.
 */
export function observeRecord(r: UserRecord, asOf: number): StoredUser {
  const base = { ...r, maturesAt: maturesAt(r.firstOpen), asOf };
  if (r.label === null) return { ...base, purchaseDate: null, label: null, labelStatus: LABEL_STATUS.unlabelled, observedAt: null };
  const { label, status } = labelAsOf(r.firstOpen, r.purchaseDate, asOf);
  return { ...base, label, labelStatus: status, observedAt: asOf };
}

/** A stored document as the fields an observation decides (legacy documents without observation times included). */
function storedUser(d: UserDoc): StoredUser {
  const { _id, contentHash: _h, createdBatch: _c, lastBatch: _l, ingestedAt: _i, ...f } = d;
  const labelStatus = f.labelStatus ?? (f.label === null || f.label === undefined ? LABEL_STATUS.unlabelled : LABEL_STATUS.matured);
  return { ...f, userId: _id, extra: f.extra ?? {}, labelStatus, maturesAt: maturesAt(f.firstOpen), asOf: f.asOf ?? Number.NEGATIVE_INFINITY, observedAt: f.observedAt ?? null };
}

/**
 * The user to store when `incoming` (observed at its batch's asOf) meets what is stored.
 * First-day fields come from the observation with the later asOf (ties: the incoming one); the
 * purchase and label come from the later observation *of purchases*: a file without a purchase
 * column never erases a known purchase, and an older export backfilled after a newer one never
 * turns a seen purchase back into a non-buyer. The label is then re-derived against the kept
 * first_open at the kept observation time, so it always follows DATA.md's rule.
 */
export function mergeRecord(incoming: StoredUser, stored: StoredUser | null): StoredUser {
  if (stored === null) return incoming;
  const features = incoming.asOf >= stored.asOf ? incoming : stored;
  let labels: StoredUser;
  if (incoming.labelStatus === LABEL_STATUS.unlabelled) labels = stored;
  else if (stored.labelStatus === LABEL_STATUS.unlabelled) labels = incoming;
  else labels = (incoming.observedAt ?? 0) >= (stored.observedAt ?? Number.NEGATIVE_INFINITY) ? incoming : stored;
  const out: StoredUser = { ...features, userId: incoming.userId, purchaseDate: labels.purchaseDate, observedAt: labels.observedAt, label: labels.label, labelStatus: labels.labelStatus };
  if (labels.labelStatus !== LABEL_STATUS.unlabelled && labels.observedAt !== null) {
    const { label, status } = labelAsOf(out.firstOpen, out.purchaseDate, labels.observedAt);
    out.label = label;
    out.labelStatus = status;
  }
  return out;
}

function toDoc(r: StoredUser, batchId: string, now: Date): UserDoc {
  const { userId, ...fields } = r;
  return { _id: userId, ...fields, contentHash: recordHash(r), createdBatch: batchId, lastBatch: batchId, ingestedAt: now };
}

/**
 * Writes one chunk of records (distinct user ids) for a batch and says what it did.
 *
 * Insert first, unordered: new users cost one bulk insert and no lookup. Only ids the insert
 * reports as duplicates are read back (one `$in` query) and compared by content hash; changed
 * ones are replaced whole ({@link replaceById}: delete + insert, staged, on FerretDB). This matters on FerretDB 1.24 / SQLite, where every `_id` lookup, update or
 * delete scans the table (its `_id` index is never used) while inserts use the unique index:
 * an existence lookup before every chunk made a fresh ingest quadratic.
 *
 * Re-running a chunk (a retried activity) writes nothing: ids already written by this batch
 * (`lastBatch === batchId`) are counted as inserted/updated from their provenance, so the
 * counts of a resumed ingest equal those of an uninterrupted one.
 */
export async function writeUserChunk(db: Db, batchId: string, rows: UserRecord[], now: Date, asOf: number): Promise<ChunkWriteCounts> {
  const counts: ChunkWriteCounts = { inserted: 0, updated: 0, unchanged: 0, pending: 0 };
  if (rows.length === 0) return counts;
  const records = rows.map((r) => observeRecord(r, asOf));
  const users = db.collection<UserDoc>(COLLECTIONS.users);
  // An earlier attempt that crashed mid-replacement left its new documents staged: put them back first.
  await recoverReplacements(db, COLLECTIONS.users, batchId);
  const { inserted, duplicates: dupIndexes } = await insertManyIgnoringDuplicates(users, records.map((r) => toDoc(r, batchId, now)));
  counts.inserted += inserted;
  if (dupIndexes.length === 0) {
    for (const r of records) if (r.labelStatus === LABEL_STATUS.pending) counts.pending++;
    return counts;
  }

  const dup = new Set(dupIndexes);
  const existing = records.filter((_, i) => dup.has(i));
  for (let i = 0; i < records.length; i++) if (!dup.has(i) && records[i]!.labelStatus === LABEL_STATUS.pending) counts.pending++;
  const stored = new Map<string, UserDoc>();
  for await (const d of users.find({ _id: { $in: existing.map((r) => r.userId) } })) stored.set(d._id, d);

  const replacements: UserDoc[] = [];
  for (const r of existing) {
    const prev = stored.get(r.userId);
    // Deleted between our insert and the read: let the activity retry the chunk.
    if (!prev) throw new Error(`user ${r.userId} vanished while batch ${batchId} was writing it`);
    if (prev.lastBatch === batchId) {
      // Written by an earlier attempt of this same chunk (each user occurs once per pass).
      if (prev.createdBatch === batchId) counts.inserted++;
      else counts.updated++;
      if (prev.labelStatus === LABEL_STATUS.pending) counts.pending++;
      continue;
    }
    const merged = mergeRecord(r, storedUser(prev));
    if (merged.labelStatus === LABEL_STATUS.pending) counts.pending++;
    const doc = { ...toDoc(merged, batchId, now), createdBatch: prev.createdBatch };
    if (doc.contentHash === prev.contentHash) {
      counts.unchanged++;
      continue;
    }
    replacements.push(doc);
  }
  // Whole documents by _id: one read of the table per chunk on FerretDB, not one per user (store/replace.ts).
  await replaceById(db, COLLECTIONS.users, replacements, batchId);
  counts.updated += replacements.length;
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
 * cursor pass in storage order and then put in id order (MongoDB's order for string ids: UTF-8
 * bytes), so snapshots are reproducible. The server does not sort: FerretDB 1.24 sorts a whole
 * result in its own memory (644 MB of FerretDB RSS for 100,000 users sorted by `_id`, 44 MB for the
 * same read unsorted; a million users took it past 14 GB). A million users as `UserRecord`
 * objects take many hundreds of MB of heap (one string per screen visit); as columns they take
 * ~100 MB, and {@link columnRecord} rebuilds one record at a time when needed.
 * `visit` sees every record once, in storage order (for progress), before it is dropped; with
 * `digests` each row's {@link recordHash} is kept (32 bytes per row, in row order).
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
  /**
   * Screens of row i: names[codes[start[i] .. end[i])], order kept. The codes stay in the order
   * the users were read (rows are put in id order through start/end, not by copying the codes),
   * two bytes each while there are at most 65,536 distinct names.
   */
  screenStart: Int32Array;
  screenEnd: Int32Array;
  screenCodes: Uint16Array | Int32Array;
  screenNames: string[];
  /** Pass-through value per name and row; NaN = absent for that user. */
  extra: Map<string, Float64Array>;
  /** recordHash of row i as bytes [32 i, 32 i + 32), when asked for. */
  digests?: Uint8Array;
}

/** MongoDB's order of string ids (UTF-8 bytes = code points); JS `<` compares UTF-16 units, which differs for surrogate pairs. */
export function compareIds(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // surrogates (U+D800-DFFF) encode code points above U+FFFF: move them above U+E000-FFFF
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Puts `a`'s first order.length items (each `width` wide) in the order `order`, in place: item i
 * becomes the item that stood at order[i]. Follows each cycle of the permutation with one item of
 * scratch, so putting a million users' columns in id order needs no second copy of them.
 */
export function permuteInPlace(a: { [i: number]: unknown; length: number }, order: Int32Array, width = 1): void {
  const n = order.length;
  const done = new Uint8Array(n);
  const tmp: unknown[] = new Array(width);
  for (let s = 0; s < n; s++) {
    if (done[s]) continue;
    for (let w = 0; w < width; w++) tmp[w] = a[s * width + w];
    let j = s;
    for (;;) {
      done[j] = 1;
      const k = order[j]!;
      if (k === s) {
        for (let w = 0; w < width; w++) a[j * width + w] = tmp[w];
        break;
      }
      // a repeated entry would never lead back to s: order must be a permutation of 0..n-1
      if (done[k] || !(k >= 0 && k < n)) throw new RangeError(`order is not a permutation of 0..${n - 1}: entry ${j} is ${k}`);
      for (let w = 0; w < width; w++) a[j * width + w] = a[k * width + w];
      j = k;
    }
  }
}

/** The columns' rows in the order `order` (row i becomes the row that stood at order[i]), in place. */
function permuteColumns(c: UserColumns, order: Int32Array): UserColumns {
  for (const col of [c.ids, c.firstOpen, c.age, c.numscreens, c.purchaseDate, c.label, c.screenStart, c.screenEnd, ...c.extra.values()]) permuteInPlace(col, order);
  if (c.digests) permuteInPlace(c.digests, order, 32);
  return c;
}

function grow<T extends Float64Array | Int32Array | Uint16Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  if (b instanceof Float64Array) b.fill(Number.NaN, a.length);
  return b;
}

/**
 * The snapshot's read: every user, without the provenance fields (never read there; leaving them
 * on the server saves decoding a million of them). Every user, not only labelled ones, so one pass
 * also counts the label states: FerretDB 1.24 decodes every stored document for a label filter
 * anyway, and a second pass for the counts (beside the load) cost the snapshot a whole scan.
 * Batches of 2,000 users: FerretDB 1.24 ignores MongoDB's 16 MB reply cap and answered a
 * getMore without a batch size with every remaining user in one reply (a buffer the size of the
 * collection in the worker). Exported so bench/pipeline.ts times a bare driver read of exactly
 * this beside the snapshot.
 */
export const SNAPSHOT_READ = { filter: {}, projection: NO_PROVENANCE, batchSize: 2000 } as const;

/** Labelled users as columns, with the label states of every user counted in the same pass. */
export type LabelledColumns = UserColumns & { states: { matured: number; pending: number; unlabelled: number } };

export async function loadLabelledColumns(db: Db, visit?: (u: UserRecord) => void, opts: { digests?: boolean } = {}): Promise<LabelledColumns> {
  let cap = 1024;
  const c: UserColumns = {
    rows: 0, ids: [], firstOpen: new Float64Array(cap), age: new Float64Array(cap), numscreens: new Float64Array(cap),
    purchaseDate: new Float64Array(cap), label: new Uint8Array(cap), screenStart: new Int32Array(cap), screenEnd: new Int32Array(cap),
    screenCodes: new Uint16Array(cap * 8), screenNames: [], extra: new Map(), ...(opts.digests ? { digests: new Uint8Array(cap * 32) } : {}),
  };
  const states = { matured: 0, pending: 0, unlabelled: 0 };
  const codeOf = new Map<string, number>();
  let nCodes = 0;
  const cur = db.collection<UserDoc>(COLLECTIONS.users).find(SNAPSHOT_READ.filter, { projection: SNAPSHOT_READ.projection, batchSize: SNAPSHOT_READ.batchSize });
  // the server reads the next reply while this loop turns the current one into columns
  for await (const batch of readAhead(cur)) for (const d of batch) {
    // the same rule as tallyUsers: a known label is matured, else pending or unlabelled
    if (d.label !== 0 && d.label !== 1) {
      if (d.labelStatus === LABEL_STATUS.pending) states.pending++;
      else states.unlabelled++;
      continue;
    }
    states.matured++;
    const u = docToRecord(d as UserDoc);
    visit?.(u);
    const i = c.rows++;
    if (i >= cap) {
      cap *= 2;
      if (c.digests) c.digests = grow(c.digests, cap * 32);
      for (const k of ['firstOpen', 'age', 'numscreens', 'purchaseDate', 'label'] as const) (c as unknown as Record<string, Float64Array>)[k] = grow(c[k] as Float64Array, cap);
      c.screenStart = grow(c.screenStart, cap);
      c.screenEnd = grow(c.screenEnd, cap);
      for (const [k, v] of c.extra) c.extra.set(k, grow(v, cap));
    }
    c.ids.push(u.userId);
    if (c.digests) c.digests.set(Buffer.from(recordHash(u), 'hex'), i * 32);
    c.firstOpen[i] = u.firstOpen;
    c.age[i] = u.age ?? Number.NaN;
    c.numscreens[i] = u.numscreens;
    c.purchaseDate[i] = u.purchaseDate ?? Number.NaN;
    c.label[i] = u.label ?? 0;
    c.screenCodes = grow(c.screenCodes, nCodes + u.screens.length);
    c.screenStart[i] = nCodes;
    for (const s of u.screens) {
      let code = codeOf.get(s);
      if (code === undefined) {
        code = c.screenNames.length;
        codeOf.set(s, code);
        c.screenNames.push(s);
        // more distinct names than two bytes hold: four bytes a code from here on
        if (code === 0x10000) c.screenCodes = Int32Array.from(c.screenCodes);
      }
      c.screenCodes[nCodes++] = code;
    }
    c.screenEnd[i] = nCodes;
    for (const [k, v] of Object.entries(u.extra)) {
      let col = c.extra.get(k);
      if (!col) c.extra.set(k, (col = new Float64Array(cap).fill(Number.NaN)));
      col[i] = v;
    }
  }
  const order = Int32Array.from({ length: c.rows }, (_, i) => i).sort((a, b) => compareIds(c.ids[a]!, c.ids[b]!));
  permuteColumns(c, order);
  return { ...c, states };
}

/** Row i of {@link loadLabelledColumns} as a record again (fields equal to the stored user's). */
export function columnRecord(c: UserColumns, i: number): UserRecord {
  const from = c.screenStart[i]!;
  const screens = new Array<string>(c.screenEnd[i]! - from);
  for (let j = 0; j < screens.length; j++) screens[j] = c.screenNames[c.screenCodes[from + j]!]!;
  const extra: Record<string, number> = {};
  for (const [k, v] of c.extra) if (!Number.isNaN(v[i]!)) extra[k] = v[i]!;
  const age = c.age[i]!;
  const purchaseDate = c.purchaseDate[i]!;
  return {
    userId: c.ids[i]!, firstOpen: c.firstOpen[i]!, screens, age: Number.isNaN(age) ? null : age, numscreens: c.numscreens[i]!,
    purchaseDate: Number.isNaN(purchaseDate) ? null : purchaseDate, label: c.label[i] as 0 | 1, extra,
  };
}

/** Stored users by label state, their total and the newest first open (null when there are none). */
export interface UserTally {
  /** Known label: these train and evaluate. */
  matured: number;
  /** Still inside their 24 h window at the data's time. */
  pending: number;
  unlabelled: number;
  total: number;
  latestFirstOpen: number | null;
}

/**
 * Users by label state: `matured` ones train and evaluate; `pending` ones wait for their window
 * to close. With the total and the newest first open, so a monitor check reads the users once.
 */
export async function tallyUsers(db: Db): Promise<UserTally> {
  const users = db.collection<UserDoc>(COLLECTIONS.users);
  if ((await serverProfile(db)).kind === 'ferretdb') {
    // FerretDB 1.24 counts a filter by collecting every matching document in its own memory
    // (604 MB of RSS to count 100,000 users), and sorts for `latestFirstOpen` the same way; it
    // decodes every stored document for any of them. One streamed pass over three fields is
    // bounded and does the work of four.
    const n: UserTally = { matured: 0, pending: 0, unlabelled: 0, total: 0, latestFirstOpen: null };
    // replies of 2,000: FerretDB ignores the 16 MB reply cap (SNAPSHOT_READ)
    for await (const d of users.find({}, { projection: { _id: 0, label: 1, labelStatus: 1, firstOpen: 1 }, batchSize: 2000 })) {
      if (d.label === 0 || d.label === 1) n.matured++;
      else if (d.labelStatus === LABEL_STATUS.pending) n.pending++;
      else n.unlabelled++;
      if (typeof d.firstOpen === 'number' && (n.latestFirstOpen === null || d.firstOpen > n.latestFirstOpen)) n.latestFirstOpen = d.firstOpen;
    }
    n.total = n.matured + n.pending + n.unlabelled;
    return n;
  }
  const [matured, pending, total, latest] = await Promise.all([
    users.countDocuments({ label: { $in: [0, 1] } }),
    users.countDocuments({ labelStatus: LABEL_STATUS.pending }),
    users.countDocuments({}),
    latestFirstOpen(db),
  ]);
  return { matured, pending, unlabelled: total - matured - pending, total, latestFirstOpen: latest };
}

/** Users by label state (see {@link tallyUsers}). */
export async function countLabelStates(db: Db): Promise<{ matured: number; pending: number; unlabelled: number }> {
  const { matured, pending, unlabelled } = await tallyUsers(db);
  return { matured, pending, unlabelled };
}

/**
 * Purchases reported by the app (POST /v1/outcomes) resolve stored users: a purchase is an
 * observation at its own time, recorded on the user; a purchase after the window closed makes a
 * known non-buyer at once, one inside the window a buyer once the window has closed (labelAsOf).
 * A stored earlier purchase is kept. Returns the
 * number of users whose stored purchase changed (a buyer is a matured 1 once its window closes).
 */
export async function resolveWithOutcomes(db: Db, outcomes: readonly { userId: string; purchaseAt: number }[]): Promise<number> {
  if (outcomes.length === 0) return 0;
  const users = db.collection<UserDoc>(COLLECTIONS.users);
  // An API process that died mid-call left its replacements staged: finish them before reading.
  await recoverStaleReplacements(db, COLLECTIONS.users, OUTCOME_TAG, STALE_STAGE_MS);
  const byId = new Map<string, number>();
  for (const o of outcomes) byId.set(o.userId, Math.min(o.purchaseAt, byId.get(o.userId) ?? Number.POSITIVE_INFINITY));
  const replacements: UserDoc[] = [];
  for await (const d of users.find({ _id: { $in: [...byId.keys()] } })) {
    const at = byId.get(d._id)!;
    if (at < d.firstOpen) continue; // a purchase before first open is no evidence about this window
    const prev = storedUser(d);
    if (prev.purchaseDate !== null && prev.purchaseDate <= at) continue;
    const observedAt = Math.max(at, prev.observedAt ?? at);
    const { label, status } = labelAsOf(prev.firstOpen, at, observedAt);
    const next = { ...prev, purchaseDate: at, observedAt, label, labelStatus: status };
    const hash = recordHash(next);
    if (hash === d.contentHash) continue;
    replacements.push({ ...d, purchaseDate: at, observedAt, label, labelStatus: status, contentHash: hash });
  }
  await replaceById(db, COLLECTIONS.users, replacements, `${OUTCOME_TAG}${randomUUID()}`);
  return replacements.length;
}

/** The stored users with these ids whose label is known (matured), as records, in the order of `ids`. */
export async function maturedUsersByIds(db: Db, ids: readonly string[]): Promise<UserRecord[]> {
  const users = db.collection<UserDoc>(COLLECTIONS.users);
  const byId = new Map<string, UserRecord>();
  // $in lists of 5,000: one query per chunk instead of one per user, small enough for any server.
  for (let i = 0; i < ids.length; i += 5000) {
    const projection = NO_PROVENANCE;
    for await (const d of users.find({ _id: { $in: ids.slice(i, i + 5000) as string[] }, label: { $in: [0, 1] } }, { projection })) byId.set(d._id, docToRecord(d as UserDoc));
  }
  return ids.map((id) => byId.get(id)).filter((u): u is UserRecord => u !== undefined);
}

/** One list of {@link usersInWindows}: users with first open at most `to`, matured only or all, at most `limit`. */
export interface WindowTake {
  to: number;
  maturedOnly: boolean;
  limit: number;
}

/**
 * Users whose first open lies in [from, to] (epoch ms), as records, newest first, at most
 * `limit`; `maturedOnly` keeps users whose label is known. Users in `exclude` (a model's training
 * ids) are left out: a metric on users a model was trained on is no evidence about it.
 */
export async function usersInWindow(db: Db, opts: { from: number; to: number; maturedOnly: boolean; exclude?: ReadonlySet<string>; limit: number }): Promise<UserRecord[]> {
  const [users] = await usersInWindows(db, { from: opts.from, exclude: opts.exclude, takes: [{ to: opts.to, maturedOnly: opts.maturedOnly, limit: opts.limit }] });
  return users!;
}

/**
 * Several {@link usersInWindow} lists that start at the same `from`, in one read newest first:
 * each take keeps the users it admits until it holds its `limit`, and the read stops when every
 * take is full. The monitor's degradation and drift windows share one read this way (on FerretDB
 * any read by first open decodes every stored user). A user in two lists is one object.
 */
export async function usersInWindows(db: Db, opts: { from: number; exclude?: ReadonlySet<string>; takes: readonly WindowTake[] }): Promise<UserRecord[][]> {
  const out: UserRecord[][] = opts.takes.map(() => []);
  const open = opts.takes.map((t) => t.limit > 0 && t.to >= opts.from);
  if (!open.some(Boolean)) return out;
  const to = Math.max(...opts.takes.map((t) => t.to));
  const filter: Record<string, unknown> = { firstOpen: { $gte: opts.from, $lte: to } };
  if (opts.takes.every((t) => t.maturedOnly)) filter.label = { $in: [0, 1] };
  const projection = NO_PROVENANCE;
  for await (const d of db.collection<UserDoc>(COLLECTIONS.users).find(filter, { projection }).sort({ firstOpen: -1 })) {
    if (opts.exclude?.has(d._id as string)) continue;
    const matured = d.label === 0 || d.label === 1;
    let record: UserRecord | null = null;
    for (let k = 0; k < opts.takes.length; k++) {
      const t = opts.takes[k]!;
      if (!open[k] || d.firstOpen > t.to || (t.maturedOnly && !matured)) continue;
      out[k]!.push((record ??= docToRecord(d as UserDoc)));
      if (out[k]!.length >= t.limit) open[k] = false;
    }
    if (!open.some(Boolean)) break;
  }
  return out;
}

/**
 * The latest first open among stored users (epoch ms), or null: where monitoring windows end.
 * MongoDB answers from the `firstOpen` index. FerretDB 1.24 would sort every stored user, whole,
 * in its own memory before the limit (6 -> 3,067 MB over 1,000,000 documents, measured), so there
 * it is {@link tallyUsers}' streamed pass, which takes the maximum as the users go by.
 */
export async function latestFirstOpen(db: Db): Promise<number | null> {
  if ((await serverProfile(db)).kind === 'ferretdb') return (await tallyUsers(db)).latestFirstOpen;
  const d = await db.collection<UserDoc>(COLLECTIONS.users).find({}, { projection: { firstOpen: 1 } }).sort({ firstOpen: -1 }).limit(1).next();
  return d ? d.firstOpen : null;
}

const DAY_MS = 86_400_000;

/**
 * The drift sample (one implementation for the monitor and the drift page): the newest users
 * outside `exclude` (a model's training ids), taken newest first until the sample covers a full
 * day of first opens and holds `minUsers`, never more than `windowDays` before the newest stored
 * first open. Returns the users and the first-open span they cover (ms).
 */
export async function newestUsersSample(db: Db, opts: { windowDays: number; minUsers: number; exclude: ReadonlySet<string>; limit: number; newest?: number | null }): Promise<{ users: UserRecord[]; span: number; newest: number | null }> {
  // A caller that already read the newest first open (the monitor check) passes it: one query fewer.
  const newest = opts.newest !== undefined ? opts.newest : await latestFirstOpen(db);
  if (newest === null) return { users: [], span: 0, newest };
  const recent = await usersInWindow(db, { from: newest - opts.windowDays * DAY_MS, to: newest, maturedOnly: false, exclude: opts.exclude, limit: opts.limit });
  return { ...driftSample(recent, newest, opts.minUsers), newest };
}

/**
 * The drift sample out of `recent` (users newest first, as {@link usersInWindow} reads them from
 * `newest` back): the first `minUsers` and every further one within a day of `newest`.
 */
export function driftSample(recent: readonly UserRecord[], newest: number, minUsers: number): { users: UserRecord[]; span: number } {
  let take = 0;
  while (take < recent.length && (take < minUsers || newest - recent[take]!.firstOpen < DAY_MS)) take++;
  const users = recent.slice(0, take);
  return { users, span: users.length ? newest - users[users.length - 1]!.firstOpen : 0 };
}

/** Every stored user as a record (with the end of its window), in one cursor pass; `visit` may be async (back-pressure). */
export async function forEachUser(db: Db, visit: (u: UserRecord, maturesAt: number) => void | Promise<void>): Promise<number> {
  let n = 0;
  for await (const batch of readAhead(db.collection<UserDoc>(COLLECTIONS.users).find({}, { projection: NO_PROVENANCE, batchSize: 2000 }))) {
    for (const d of batch) {
      await visit(docToRecord(d as UserDoc), d.maturesAt ?? maturesAt(d.firstOpen));
      n++;
    }
  }
  return n;
}
