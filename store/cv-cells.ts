import type { Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import type { CellMetrics } from '../ml/grid';
import type { Params } from '../common/workflow-types';

/** One finished grid-search cell (params × fold) of a run; its out-of-fold predictions are a blob under the same `_id`. */
export interface CellDoc {
  /** `<run>:<cell key>:<fold>` */
  _id: string;
  runId: string;
  cellKey: string;
  params: Params;
  foldIndex: number;
  score: number;
  metrics: CellMetrics;
  fitMs: number;
  workerIdentity: string;
  finishedAt: Date;
}

const cells = (db: Db) => db.collection<CellDoc>(COLLECTIONS.cvCells);

export async function findCell(db: Db, id: string): Promise<CellDoc | null> {
  return cells(db).findOne({ _id: id });
}

/** Stores a finished cell unless one with its `_id` is stored already (a duplicated or retried cell keeps the first result). */
export async function saveCell(db: Db, doc: CellDoc): Promise<void> {
  await cells(db).updateOne({ _id: doc._id }, { $setOnInsert: doc }, { upsert: true });
}

export async function cellsOfRun(db: Db, runId: string): Promise<CellDoc[]> {
  return cells(db).find({ runId }).toArray();
}
