import { MongoNetworkError, ObjectId, type Db } from 'mongodb';
import { COLLECTIONS } from './collections';

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

const toDoc = (p: Pending): PredictionDoc => ({
  _id: new ObjectId(), userId: p.userId, firstOpen: p.firstOpen === undefined ? null : new Date(p.firstOpen), modelName: p.modelName,
  version: p.version, probability: p.probability, decision: p.decision, at: new Date(p.at),
});

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
    private readonly opts: { flushMs?: number; /** records per insert command, 1..10,000 (a command stays far below MongoDB's 16 MB) @default 1000 */ batch?: number; maxBuffered?: number; /** told of every failed insert and how many records it dropped (the API logs it) */ onError?: (err: unknown, lost: number) => void } = {},
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
        const batch = this.buf.splice(0, this.opts.batch ?? 1000).map(toDoc);
        try {
          const { written, failed, firstError } = await this.insert(batch);
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
   * One `insert` command for the batch, unordered. Not `insertMany`: the driver's bulk-write path
   * sizes and wraps every document before serialising it, about 3x the client CPU of the command
   * (1,000 records on FerretDB: 11 against 3.5 ms, the same run; docs/decisions.md 2026-12-04),
   * paid on the event loop that serves requests. A network error is retried once; a record the
   * first attempt had already written then comes back as a duplicate `_id` (code 11000) and is
   * counted as written, not twice. `dropped` is an upper bound: when the retry fails too (or the
   * driver reports a write-concern error), the whole batch counts as dropped although the server
   * may hold some of it; it never holds a record twice.
   */
  private async insert(docs: PredictionDoc[]): Promise<{ written: number; failed: number; firstError?: unknown }> {
    const run = () => this.db.command({ insert: COLLECTIONS.predictions, documents: docs, ordered: false }) as Promise<{ n?: number; writeErrors?: { code?: number; errmsg?: string }[] }>;
    let retried = false;
    let res;
    try {
      res = await run();
    } catch (err) {
      if (!(err instanceof MongoNetworkError)) throw err;
      retried = true;
      res = await run();
    }
    const errors = res.writeErrors ?? [];
    const already = retried ? errors.filter((e) => e.code === 11000).length : 0;
    const failed = errors.length - already;
    const first = errors.find((e) => !retried || e.code !== 11000);
    return { written: (res.n ?? 0) + already, failed, firstError: first ? new Error(`prediction log insert: ${first.errmsg ?? `code ${first.code}`}`) : undefined };
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
