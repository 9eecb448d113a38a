import { Binary, MongoNetworkError, ObjectId, type Db } from 'mongodb';
import { CorruptArtifactError } from '../common/errors';
import { packArrays, unpackArrays } from './typed-pack';
import { binaryBytes } from './blobs';
import { COLLECTIONS } from './collections';

/**
 * One prediction as the first round logged it (a document per prediction). Still read by
 * `apiOnlyOutcomes`; the log now writes `PredictionSegment`s.
 */
export interface PredictionDoc {
  /** made by the API, so a retried insert cannot write a record twice */
  _id: ObjectId;
  userId: string;
  /** The user's first open (from the request), so outcomes can be labelled by the 24 h rule. */
  firstOpen: Date | null;
  modelName: string;
  version: number;
  probability: number;
  decision: boolean;
  at: Date;
}

/** What every segment document says about its entries, whatever shape its columns are in. */
interface SegmentHeader {
  /** made by the API, so a retried insert cannot write a segment twice */
  _id: ObjectId;
  modelName: string;
  version: number;
  n: number;
  /** when the first and the last prediction of the segment were made */
  from: Date;
  to: Date;
  /** the smallest and largest first open given (null when no entry has one) */
  firstOpenMin: Date | null;
  firstOpenMax: Date | null;
}

/**
 * What the log writes: the predictions one model version made between two flushes, as columns
 * (entry i of every column is prediction i) in one binary pack (store/typed-pack.ts): `userIdBytes`
 * (the ids' UTF-8, concatenated) with `userIdEnds` (where each id ends), `firstOpens` (epoch ms,
 * NaN where the request gave none), `probabilities`, `decisions` (0/1), `ats` (epoch ms). One
 * document per flush instead of one per prediction, and one binary value instead of an array
 * element per entry: FerretDB's cost is per document and per value (it stores each as JSON), so a
 * 1,000-entry segment costs it ~1 ms of CPU to insert against ~8 ms as arrays and ~39 ms as 1,000
 * documents (docs/decisions.md "The prediction log in segments"). `firstOpenMin`/`firstOpenMax`
 * bound the segment's first opens, so a reader of a first-open window selects segments by range
 * and filters their entries.
 */
export interface PredictionSegment extends SegmentHeader {
  columns: Binary;
}

/** The segments the log wrote on 2026-12-05 before the columns were packed: one array per column. Still read. */
export interface ArraySegment extends SegmentHeader {
  userIds: string[];
  firstOpens: (number | null)[];
  probabilities: number[];
  decisions: boolean[];
  ats: number[];
}

/** A segment's entries as columns, from either stored shape. */
export interface SegmentColumns {
  userIds: string[];
  /** epoch ms, or null where the request gave no first open */
  firstOpens: (number | null)[];
  probabilities: ArrayLike<number>;
  decisions: boolean[];
  ats: ArrayLike<number>;
}

/** One logged prediction, whichever document shape it was stored in. */
export interface LoggedPrediction {
  userId: string;
  firstOpen: number | null;
  probability: number;
  decision: boolean;
  at: number;
}

/** What the request path keeps per prediction: numbers, no Date objects (they are made at flush). */
interface Pending {
  userId: string;
  firstOpen: number | undefined;
  modelName: string;
  version: number;
  probability: number;
  decision: boolean;
  at: number;
}

/** Entries of one model version, in the order they were served, as one segment document. */
function toSegment(ps: readonly Pending[]): PredictionSegment {
  const first = ps[0]!;
  const n = ps.length;
  const firstOpens = new Float64Array(n);
  const probabilities = new Float64Array(n);
  const decisions = new Uint8Array(n);
  const ats = new Float64Array(n);
  const userIdEnds = new Uint32Array(n);
  const ids: string[] = new Array(n);
  let lo = Infinity, hi = -Infinity, bytes = 0;
  for (let i = 0; i < n; i++) {
    const p = ps[i]!;
    const f = p.firstOpen ?? Number.NaN;
    firstOpens[i] = f;
    if (f < lo) lo = f;
    if (f > hi) hi = f;
    probabilities[i] = p.probability;
    decisions[i] = p.decision ? 1 : 0;
    ats[i] = p.at;
    ids[i] = p.userId;
    bytes += Buffer.byteLength(p.userId);
    userIdEnds[i] = bytes;
  }
  const userIdBytes = new Uint8Array(bytes);
  // id by id: joined first, two ids' lone surrogates could pair up and change the byte count
  const text = Buffer.from(userIdBytes.buffer);
  for (let i = 0; i < n; i++) text.write(ids[i]!, i === 0 ? 0 : userIdEnds[i - 1]!, 'utf8');
  return {
    _id: new ObjectId(), modelName: first.modelName, version: first.version, n,
    from: new Date(first.at), to: new Date(ps[n - 1]!.at),
    firstOpenMin: lo === Infinity ? null : new Date(lo), firstOpenMax: hi === -Infinity ? null : new Date(hi),
    columns: new Binary(packArrays({ userIdBytes, userIdEnds, firstOpens, probabilities, decisions, ats })),
  };
}

/**
 * A segment's columns, from its pack or (segments written before the pack) its arrays.
 * @throws CorruptArtifactError when the pack's columns do not hold `n` entries each
 */
export function segmentColumns(s: PredictionSegment | ArraySegment): SegmentColumns {
  if (!('columns' in s)) return s;
  const { arrays } = unpackArrays(binaryBytes(s.columns));
  const { userIdBytes, userIdEnds, firstOpens, probabilities, decisions, ats } = arrays;
  const n = s.n;
  if (!userIdBytes || !userIdEnds || !firstOpens || !probabilities || !decisions || !ats
    || [userIdEnds, firstOpens, probabilities, decisions, ats].some((a) => a.length !== n) || (n > 0 && userIdEnds[n - 1] !== userIdBytes.length)) {
    throw new CorruptArtifactError(`prediction segment ${String(s._id)}: its columns do not hold n = ${n} entries each`);
  }
  const text = Buffer.from(userIdBytes.buffer, userIdBytes.byteOffset, userIdBytes.byteLength);
  const userIds: string[] = new Array(n);
  const fo: (number | null)[] = new Array(n);
  const dec: boolean[] = new Array(n);
  for (let i = 0, start = 0; i < n; i++) {
    const end = userIdEnds[i]!;
    if (end < start) throw new CorruptArtifactError(`prediction segment ${String(s._id)}: user id ${i} ends at byte ${end}, before it starts (${start})`);
    userIds[i] = text.toString('utf8', start, end);
    start = end;
    fo[i] = Number.isNaN(firstOpens[i]) ? null : firstOpens[i]!;
    dec[i] = decisions[i] === 1;
  }
  return { userIds, firstOpens: fo, probabilities, decisions: dec, ats };
}

/** Splits a batch where the model version changes (a swap of `production` between two flushes). */
function segmentsOf(batch: readonly Pending[]): PredictionSegment[] {
  const out: PredictionSegment[] = [];
  let start = 0;
  for (let i = 1; i <= batch.length; i++) {
    if (i === batch.length || batch[i]!.version !== batch[start]!.version || batch[i]!.modelName !== batch[start]!.modelName) {
      out.push(toSegment(batch.slice(start, i)));
      start = i;
    }
  }
  return out;
}

/**
 * The predictions a model version logged for users whose first open lies in [from, to] (epoch ms),
 * from segments and from first-round per-prediction documents alike, unordered.
 */
export async function loggedPredictions(db: Db, q: { modelName: string; version: number; from: number; to: number }): Promise<LoggedPrediction[]> {
  const out: LoggedPrediction[] = [];
  const coll = db.collection(COLLECTIONS.predictions);
  const segments = coll.find<PredictionSegment | ArraySegment>(
    { modelName: q.modelName, version: q.version, firstOpenMin: { $lte: new Date(q.to) }, firstOpenMax: { $gte: new Date(q.from) } },
    { projection: { n: 1, columns: 1, userIds: 1, firstOpens: 1, probabilities: 1, decisions: 1, ats: 1 } },
  );
  for await (const doc of segments) {
    const s = segmentColumns(doc);
    for (let i = 0; i < s.userIds.length; i++) {
      const f = s.firstOpens[i];
      if (f === null || f === undefined || f < q.from || f > q.to) continue;
      out.push({ userId: s.userIds[i]!, firstOpen: f, probability: s.probabilities[i]!, decision: s.decisions[i]!, at: s.ats[i]! });
    }
  }
  const docs = coll.find<PredictionDoc>(
    { modelName: q.modelName, version: q.version, firstOpen: { $gte: new Date(q.from), $lte: new Date(q.to) } },
    { projection: { userId: 1, probability: 1, decision: 1, firstOpen: 1, at: 1 } },
  );
  for await (const d of docs) out.push({ userId: d.userId, firstOpen: new Date(d.firstOpen!).getTime(), probability: d.probability, decision: d.decision, at: new Date(d.at).getTime() });
  return out;
}

/** How many predictions the log holds (segments' entries plus first-round documents). */
export async function countLoggedPredictions(db: Db): Promise<number> {
  let n = 0;
  for await (const s of db.collection(COLLECTIONS.predictions).find({}, { projection: { _id: 0, n: 1 } })) n += typeof s.n === 'number' ? s.n : 1;
  return n;
}

/**
 * Buffers prediction records and writes them in batches off the response path. Bounded: if
 * MongoDB is slow, the oldest unsent records are dropped and counted rather than growing memory
 * without limit (the log feeds monitoring, not billing).
 */
export class PredictionLog {
  private buf: Pending[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private flushing: Promise<void> | null = null;
  private flushQueued = false;
  dropped = 0;
  written = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: { flushMs?: number; /** predictions per insert command (one segment per model version in it), 1..10,000 (a segment stays far below MongoDB's 16 MB) @default 1000 */ batch?: number; maxBuffered?: number; /** told of every failed insert and how many records it dropped (the API logs it) */ onError?: (err: unknown, lost: number) => void } = {},
  ) {
    const b = opts.batch ?? 1000;
    if (!Number.isInteger(b) || b < 1 || b > 10_000) throw new RangeError(`PredictionLog batch: must be an integer in 1..10000, got ${b}`);
  }

  record(model: { name: string; version: number }, preds: { user_id: string; probability: number; decision: boolean; firstOpen?: number }[]): void {
    const at = Date.now();
    for (const p of preds) this.push({ userId: p.user_id, firstOpen: p.firstOpen, modelName: model.name, version: model.version, probability: p.probability, decision: p.decision, at });
  }

  /** One prediction without the array and object wrappers of `record` (the single-user hot path). */
  recordOne(modelName: string, version: number, userId: string, probability: number, decision: boolean, firstOpen: number | undefined): void {
    this.push({ userId, firstOpen, modelName, version, probability, decision, at: Date.now() });
  }

  private push(p: Pending): void {
    this.buf.push(p);
    const max = this.opts.maxBuffered ?? 100_000;
    if (this.buf.length > max) {
      this.dropped += this.buf.length - max;
      this.buf.splice(0, this.buf.length - max);
    }
    // a full batch is written after the current response went out (setImmediate runs after the
    // socket write), so the request that fills the batch does not pay for serialising it
    if (this.buf.length >= (this.opts.batch ?? 1000) && !this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        void this.flush();
      });
    }
  }

  flush(): Promise<void> {
    this.flushing ??= (async () => {
      while (this.buf.length > 0) {
        const batch = this.buf.splice(0, this.opts.batch ?? 1000);
        try {
          const { written, failed, firstError } = await this.insert(segmentsOf(batch));
          this.written += written;
          if (failed > 0) {
            this.dropped += failed;
            this.opts.onError?.(firstError, failed);
          }
        } catch (err) {
          this.dropped += batch.length;
          this.opts.onError?.(err, batch.length);
        }
      }
    })().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /**
   * One `insert` command for the batch's segments, unordered; counts are in predictions. Not
   * `insertMany`: the driver's bulk-write path sizes and wraps every document before serialising
   * it, about 3x the client CPU of the command (docs/decisions.md 2026-12-04), paid on the event
   * loop that serves requests. A network error is retried once; a segment the first attempt had
   * already written then comes back as a duplicate `_id` (code 11000) and is counted as written,
   * not twice. `dropped` is an upper bound: when the retry fails too (or the driver reports a
   * write-concern error), the whole batch counts as dropped although the server may hold some of
   * it; it never holds a prediction twice.
   */
  private async insert(segments: PredictionSegment[]): Promise<{ written: number; failed: number; firstError?: unknown }> {
    const run = () => this.db.command({ insert: COLLECTIONS.predictions, documents: segments, ordered: false }) as Promise<{ n?: number; writeErrors?: { index?: number; code?: number; errmsg?: string }[] }>;
    let retried = false;
    let res;
    try {
      res = await run();
    } catch (err) {
      if (!(err instanceof MongoNetworkError)) throw err;
      retried = true;
      res = await run();
    }
    const refused = (res.writeErrors ?? []).filter((e) => !(retried && e.code === 11000));
    const lost = new Set(refused.map((e) => e.index ?? -1));
    let written = 0, failed = 0;
    segments.forEach((seg, i) => {
      if (lost.has(i)) failed += seg.n;
      else written += seg.n;
    });
    // an error without an index (not expected from a server) loses the whole batch's count
    if (lost.has(-1)) return { written: 0, failed: written + failed, firstError: new Error(`prediction log insert: ${refused[0]!.errmsg ?? `code ${refused[0]!.code}`}`) };
    const first = refused[0];
    return { written, failed, firstError: first ? new Error(`prediction log insert: ${first.errmsg ?? `code ${first.code}`}`) : undefined };
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.opts.flushMs ?? 500);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
