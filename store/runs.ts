import type { Db } from 'mongodb';
import { COLLECTIONS } from './collections';

/** One training pipeline run, keyed by its workflow id; pages and `status` read it. */
export interface RunDoc {
  _id: string;
  modelName: string;
  trigger: string;
  reason: string;
  requestedBy?: string;
  status: 'running' | 'completed' | 'failed';
  stage: string;
  startedAt: Date;
  updatedAt: Date;
  finishedAt?: Date;
  [key: string]: unknown;
}

const runs = (db: Db) => db.collection<RunDoc>(COLLECTIONS.runs);

/** Merges fields into a run document (creating it); safe to repeat. */
export async function patchRun(db: Db, runId: string, patch: Record<string, unknown>, now = new Date()): Promise<void> {
  const { startedAt, ...rest } = patch;
  await runs(db).updateOne(
    { _id: runId },
    { $set: { ...rest, updatedAt: now }, $setOnInsert: { startedAt: (startedAt as Date | undefined) ?? now } },
    { upsert: true },
  );
}

export async function getRun(db: Db, runId: string): Promise<RunDoc | null> {
  return runs(db).findOne({ _id: runId });
}

export async function listRuns(db: Db, modelName?: string, limit = 20): Promise<RunDoc[]> {
  return runs(db).find(modelName ? { modelName } : {}).sort({ startedAt: -1 }).limit(limit).toArray();
}
