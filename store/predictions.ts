import type { Db } from 'mongodb';
import { COLLECTIONS } from './collections';

export interface PredictionDoc {
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
  userId: p.userId, firstOpen: p.firstOpen === undefined ? null : new Date(p.firstOpen), modelName: p.modelName,
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
    private readonly opts: { flushMs?: number; batch?: number; maxBuffered?: number; /** told of every failed insert and how many records it dropped (the API logs it) */ onError?: (err: unknown, lost: number) => void } = {},
  ) {}

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
          await this.db.collection<PredictionDoc>(COLLECTIONS.predictions).insertMany(batch, { ordered: false });
          this.written += batch.length;
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
