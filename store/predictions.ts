import { MongoNetworkError, ObjectId, type Db } from 'mongodb';
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

/**
 * What the log writes: the predictions one model version made between two flushes, column by
 * column (entry i of every array is prediction i). One document per flush instead of one per
 * prediction: FerretDB's cost is per document (a SQLite row and its JSON), so 1,000 predictions
 * cost it about a quarter of the CPU (docs/decisions.md "The prediction log in segments").
 * `firstOpenMin`/`firstOpenMax` bound the segment's first opens, so a reader of a first-open
 * window selects segments by range and filters their entries.
 */
export interface PredictionSegment {
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
  userIds: string[];
  /** epoch ms, or null where the request gave no first open */
  firstOpens: (number | null)[];
  probabilities: number[];
  decisions: boolean[];
  /** epoch ms */
  ats: number[];
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
  const firstOpens = ps.map((p) => p.firstOpen ?? null);
  let lo = Infinity, hi = -Infinity;
  for (const f of firstOpens) {
    if (f === null) continue;
    if (f < lo) lo = f;
    if (f > hi) hi = f;
  }
  return {
    _id: new ObjectId(), modelName: first.modelName, version: first.version, n: ps.length,
    from: new Date(first.at), to: new Date(ps[ps.length - 1]!.at),
    firstOpenMin: lo === Infinity ? null : new Date(lo), firstOpenMax: hi === -Infinity ? null : new Date(hi),
    userIds: ps.map((p) => p.userId), firstOpens, probabilities: ps.map((p) => p.probability),
    decisions: ps.map((p) => p.decision), ats: ps.map((p) => p.at),
  };
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
  const segments = coll.find<PredictionSegment>(
    { modelName: q.modelName, version: q.version, firstOpenMin: { $lte: new Date(q.to) }, firstOpenMax: { $gte: new Date(q.from) } },
    { projection: { userIds: 1, firstOpens: 1, probabilities: 1, decisions: 1, ats: 1 } },
  );
  for await (const s of segments) {
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
