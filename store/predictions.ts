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

/**
 * Buffers prediction records and writes them in batches off the response path. Bounded: if
 * MongoDB is slow, the oldest unsent records are dropped and counted rather than growing memory
 * without limit (the log feeds monitoring, not billing).
 */
export class PredictionLog {
  private buf: PredictionDoc[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private flushing: Promise<void> | null = null;
  dropped = 0;
  written = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: { flushMs?: number; batch?: number; maxBuffered?: number } = {},
  ) {}

  record(model: { name: string; version: number }, preds: { user_id: string; probability: number; decision: boolean; firstOpen?: number }[]): void {
    const at = new Date();
    for (const p of preds) this.buf.push({ userId: p.user_id, firstOpen: p.firstOpen === undefined ? null : new Date(p.firstOpen), modelName: model.name, version: model.version, probability: p.probability, decision: p.decision, at });
    const max = this.opts.maxBuffered ?? 100_000;
    if (this.buf.length > max) {
      this.dropped += this.buf.length - max;
      this.buf.splice(0, this.buf.length - max);
    }
    if (this.buf.length >= (this.opts.batch ?? 1000)) void this.flush();
  }

  flush(): Promise<void> {
    this.flushing ??= (async () => {
      while (this.buf.length > 0) {
        const batch = this.buf.splice(0, this.opts.batch ?? 1000);
        try {
          await this.db.collection<PredictionDoc>(COLLECTIONS.predictions).insertMany(batch, { ordered: false });
          this.written += batch.length;
        } catch {
          this.dropped += batch.length;
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
