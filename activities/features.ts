import type { Db } from 'mongodb';
import { createHash } from 'node:crypto';
import { loadLabelledColumns, columnRecord, recordHash, countUsers, type UserColumns } from '../store/users';
import { saveDataset, getDatasetDoc } from '../store/datasets';
import { fitFeatureSpec, transformBatch, type FeatureSpec } from '../data/features';
import { splitHoldout } from '../data/split';
import { referenceHistograms } from '../ml/drift';
import type { SnapshotSummary, TrainingSettings } from '../common/workflow-types';
import { heartbeat, nonRetryable, FAILURE_TYPES } from './context';
import type { ActivityDeps } from './deps';

/** Fewer labelled rows than this cannot fill k stratified folds plus a holdout meaningfully. */
const MIN_ROWS = 50;

/** Rows per transformBatch call: records are rebuilt from columns a chunk at a time, then dropped. */
const TRANSFORM_CHUNK = 4096;
const KEEPALIVE_MS = 5000;

type SnapshotSettings = Pick<TrainingSettings, 'splitStrategy' | 'holdoutFraction' | 'seed'>;

function* recordsAt(cols: UserColumns, idx: Int32Array) {
  for (let i = 0; i < idx.length; i++) yield columnRecord(cols, idx[i]!);
}

/** The matrix of every row, in row order, from the columns (same values as transformBatch on all records). */
function transformColumns(spec: FeatureSpec, cols: UserColumns): Float64Array {
  const width = spec.names.length;
  const X = new Float64Array(cols.rows * width);
  for (let start = 0; start < cols.rows; start += TRANSFORM_CHUNK) {
    const end = Math.min(cols.rows, start + TRANSFORM_CHUNK);
    const chunk = Array.from({ length: end - start }, (_, j) => columnRecord(cols, start + j));
    transformBatch(spec, chunk, X.subarray(start * width, end * width));
  }
  return X;
}

/**
 * Builds a dataset snapshot from every labelled user: split, fit the feature spec on the
 * training part only (top-K screens from the holdout would leak), transform all rows, store the
 * matrix once under a content-derived id. Same users + same settings → same id (idempotent).
 */
async function build(db: Db, settings: SnapshotSettings, beat: (d: Record<string, unknown>) => void): Promise<SnapshotSummary> {
  // Columns, not an array of records: the snapshot's heap stays ~100 MB per million users
  // (docs/decisions.md), so the worker can run under a heap cap that keeps ingest memory bounded.
  const h = createHash('sha256').update(JSON.stringify(settings));
  let read = 0;
  // The count runs beside the load: on FerretDB each is a table scan (~7 s per 20k users measured).
  const [users, usersAtSnapshot] = await Promise.all([
    loadLabelledColumns(db, (u) => {
      h.update(u.userId).update(recordHash(u));
      if (++read % 20_000 === 0) beat({ stage: 'loading', users: read });
    }),
    countUsers(db),
  ]);
  beat({ stage: 'loaded', users: users.rows });
  const y = users.label.subarray(0, users.rows);
  const firstOpen = users.firstOpen.subarray(0, users.rows);
  const positives = y.reduce((a, b) => a + b, 0);
  if (users.rows < MIN_ROWS || positives === 0 || positives === users.rows) {
    throw nonRetryable(FAILURE_TYPES.insufficientData, new Error(`need at least ${MIN_ROWS} labelled users with both classes; have ${users.rows} users, ${positives} buyers`));
  }
  const datasetId = `ds-${h.digest('hex').slice(0, 24)}`;
  const existing = await getDatasetDoc(db, datasetId);
  if (existing) return summary(existing);

  const { train, holdout } = splitHoldout({ firstOpen, y, strategy: settings.splitStrategy, holdoutFraction: settings.holdoutFraction, seed: settings.seed });
  const spec = fitFeatureSpec(recordsAt(users, train));
  const X = transformColumns(spec, users);
  const cols = spec.names.length;
  const trainX = new Float64Array(train.length * cols);
  for (let i = 0; i < train.length; i++) trainX.set(X.subarray(train[i]! * cols, (train[i]! + 1) * cols), i * cols);
  beat({ stage: 'transformed', rows: users.rows });
  const doc = await saveDataset(
    db,
    {
      _id: datasetId,
      spec,
      names: spec.names,
      rows: users.rows,
      cols,
      labelRate: positives / users.rows,
      trainRows: train.length,
      holdoutRows: holdout.length,
      splitStrategy: settings.splitStrategy,
      holdoutFraction: settings.holdoutFraction,
      seed: settings.seed,
      referenceHistograms: referenceHistograms(spec.names, trainX, train.length),
      usersAtSnapshot,
      createdAt: new Date(),
    },
    { X, y, train, holdout, holdoutUserIds: Array.from(holdout, (i) => users.ids[i]!) },
  );
  return summary(doc);
}

export function createFeatureActivities({ db }: ActivityDeps) {
  return {
    async buildSnapshot(settings: SnapshotSettings): Promise<SnapshotSummary> {
      // Liveness, not progress: the server sorts every labelled user before the first arrives. Without
      // this beat a 200k-user snapshot on FerretDB hit the 30 s heartbeat timeout on all 5 attempts (measured).
      let last: Record<string, unknown> = { stage: 'starting' };
      const keepalive = setInterval(() => heartbeat(last), KEEPALIVE_MS);
      try {
        return await build(db, settings, (d) => heartbeat((last = d)));
      } finally {
        clearInterval(keepalive);
      }
    },
  };
}

function summary(doc: { _id: string; rows: number; cols: number; trainRows: number; holdoutRows: number; labelRate: number }): SnapshotSummary {
  return { datasetId: doc._id, rows: doc.rows, features: doc.cols, trainRows: doc.trainRows, holdoutRows: doc.holdoutRows, labelRate: doc.labelRate };
}
