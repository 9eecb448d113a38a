import type { Db } from 'mongodb';
import { createHash } from 'node:crypto';
import { loadLabelledColumns, columnRecord, type UserColumns } from '../store/users';
import { featureTimezone } from '../store/batches';
import { storeDataset, getDatasetDoc, type DatasetDoc } from '../store/datasets';
import { fitFeatureSpec, transformBatch, type FeatureSpec } from '../data/features';
import { splitHoldout } from '../data/split';
import { ReferenceSketch } from '../ml/drift';
import type { SnapshotSummary, TrainingSettings } from '../common/workflow-types';
import { nonRetryable, withKeepalive, FAILURE_TYPES } from './context';
import type { ActivityDeps } from './deps';

/** Fewer labelled rows than this cannot fill k stratified folds plus a holdout meaningfully. */
const MIN_ROWS = 50;

/** Rows per transformBatch call: records are rebuilt from columns a chunk at a time, then dropped. */
const TRANSFORM_CHUNK = 4096;

type SnapshotSettings = Pick<TrainingSettings, 'splitStrategy' | 'holdoutFraction' | 'seed'>;

/** Order-independent digest of a set of user ids (ids arrive sorted, so this is the sorted list's hash). */
function fingerprint(ids: readonly string[], idx: Int32Array): string {
  const h = createHash('sha256');
  for (let i = 0; i < idx.length; i++) h.update(ids[idx[i]!]!).update('\u0000');
  return h.digest('hex');
}

function* recordsAt(cols: UserColumns, idx: Int32Array) {
  for (let i = 0; i < idx.length; i++) yield columnRecord(cols, idx[i]!);
}

/**
 * The matrix of every row, in row order, a chunk of TRANSFORM_CHUNK rows at a time (the same
 * values as transformBatch on all records): the snapshot streams it into the store and never
 * holds it whole (416 MB at a million users). `seen` gets each chunk once, the first time it is made.
 */
function* transformChunks(spec: FeatureSpec, cols: UserColumns): Generator<{ X: Float64Array; start: number; rows: number }> {
  const width = spec.names.length;
  const buf = new Float64Array(TRANSFORM_CHUNK * width);
  for (let start = 0; start < cols.rows; start += TRANSFORM_CHUNK) {
    const end = Math.min(cols.rows, start + TRANSFORM_CHUNK);
    const chunk = Array.from({ length: end - start }, (_, j) => columnRecord(cols, start + j));
    // one buffer for every chunk: each is written out before the next is made (putBlob uploads parts in turn)
    yield { X: transformBatch(spec, chunk, buf.subarray(0, (end - start) * width)), start, rows: end - start };
  }
}

/**
 * Builds a dataset snapshot from every matured user (pending users have no label yet and are
 * left out): split (by default the stable hash holdout, so a user is never in one model's
 * training set and another's holdout), fit the feature spec on the training part only (top-K
 * screens from the holdout would leak) in the ingest mapping's zone, transform all rows, store
 * the matrix once under a content-derived id. Same users + same settings → same id (idempotent).
 */
async function build(db: Db, settings: SnapshotSettings, beat: (d: unknown) => void): Promise<SnapshotSummary> {
  // Columns, not an array of records: the snapshot's heap stays ~100 MB per million users
  // (docs/decisions.md), so the worker can run under a heap cap that keeps ingest memory bounded.
  // Calendar features in the users' own zone (the ingest mapping's), part of the snapshot's identity.
  const tz = await featureTimezone(db);
  // Only what changes the matrix: the workflow hands over the whole run settings, and hashing them
  // all made e.g. GRID_CONCURRENCY or REFIT_SHARDS a different dataset.
  const { splitStrategy, holdoutFraction, seed } = settings;
  const h = createHash('sha256').update(JSON.stringify({ splitStrategy, holdoutFraction, seed, timezone: tz.timezone }));
  let read = 0;
  // One pass: the matured users as columns and every user's label state counted (on FerretDB a
  // second pass for the counts decoded every stored user again).
  const users = await loadLabelledColumns(db, () => {
    if (++read % 20_000 === 0) beat({ stage: 'loading', users: read });
  }, { digests: true });
  const { states } = users;
  beat({ stage: 'loaded', users: users.rows });
  // the identity, in id order: each user's id and record digest (the hex string, as before the read became unsorted)
  for (let i = 0; i < users.rows; i++) h.update(users.ids[i]!).update(Buffer.from(users.digests!.subarray(i * 32, i * 32 + 32)).toString('hex'));
  const y = users.label.subarray(0, users.rows);
  const firstOpen = users.firstOpen.subarray(0, users.rows);
  const positives = y.reduce((a, b) => a + b, 0);
  if (users.rows < MIN_ROWS || positives === 0 || positives === users.rows) {
    throw nonRetryable(FAILURE_TYPES.insufficientData, new Error(`need at least ${MIN_ROWS} matured users with both classes; have ${users.rows} matured users (${states.pending} pending), ${positives} buyers`));
  }
  const datasetId = `ds-${h.digest('hex').slice(0, 24)}`;
  const existing = await getDatasetDoc(db, datasetId);
  if (existing) return summary(existing);

  const { train, holdout } = splitHoldout({ ids: users.ids, firstOpen, strategy: settings.splitStrategy, holdoutFraction: settings.holdoutFraction, seed: settings.seed });
  const holdoutPositives = Array.from(holdout).reduce((a, i) => a + y[i]!, 0);
  const trainPositives = positives - holdoutPositives;
  if (trainPositives === 0 || trainPositives === train.length || holdoutPositives === 0 || holdoutPositives === holdout.length) {
    throw nonRetryable(FAILURE_TYPES.insufficientData, new Error(`the ${settings.splitStrategy} split leaves one class missing on a side: train ${train.length} users (${trainPositives} buyers), holdout ${holdout.length} (${holdoutPositives} buyers)`));
  }
  const spec = fitFeatureSpec(recordsAt(users, train), { timezone: tz.timezone });
  const cols = spec.names.length;
  // The reference histograms of the training rows, gathered while the matrix is made and stored:
  // `sketch` is that of the last pass that made every row (an upload that starts over makes them again).
  const inTrain = new Uint8Array(users.rows);
  for (const i of train) inTrain[i] = 1;
  let sketch: ReferenceSketch | null = null;
  const chunks = function* (): Generator<Float64Array> {
    const s = new ReferenceSketch(spec.names);
    let n = 0;
    for (const { X, start, rows } of transformChunks(spec, users)) {
      for (let r = 0; r < rows; r++) if (inTrain[start + r]) s.addRow(X, r);
      if (++n % 25 === 0) beat({ stage: 'writing', rows: start + rows });
      yield X;
    }
    sketch = s;
  };
  // A retried snapshot whose matrix was stored before the crash makes no chunks: one pass for the histograms.
  const histograms = () => {
    if (!sketch) for (const _ of chunks());
    return sketch!.histograms();
  };
  const doc = await storeDataset(
    db,
    datasetId,
    { X: { rows: users.rows, cols, chunks }, y, train, holdout, holdoutUserIds: Array.from(holdout, (i) => users.ids[i]!), trainUserIds: Array.from(train, (i) => users.ids[i]!) },
    () => ({
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
      referenceHistograms: histograms(),
      usersAtSnapshot: states.matured + states.pending + states.unlabelled,
      matured: users.rows,
      pending: states.pending,
      timezone: tz.timezone,
      timezones: tz.zones,
      trainFingerprint: fingerprint(users.ids, train),
      latestFirstOpen: firstOpen.reduce((m, t) => Math.max(m, t), Number.NEGATIVE_INFINITY),
      createdAt: new Date(),
    }),
  );
  return summary(doc);
}

export function createFeatureActivities({ db }: ActivityDeps) {
  return {
    async buildSnapshot(settings: SnapshotSettings): Promise<SnapshotSummary> {
      // Liveness, not progress: the server may take long before the first users arrive. Without
      // this beat a 200k-user snapshot on FerretDB hit the 30 s heartbeat timeout on all 5 attempts (measured).
      return withKeepalive({ stage: 'starting' }, (beat) => build(db, settings, beat));
    },
  };
}

function summary(doc: DatasetDoc): SnapshotSummary {
  return {
    datasetId: doc._id, rows: doc.rows, features: doc.cols, trainRows: doc.trainRows, holdoutRows: doc.holdoutRows, labelRate: doc.labelRate,
    matured: doc.matured ?? doc.rows, pending: doc.pending ?? 0, timezone: doc.timezone ?? doc.spec.timezone,
  };
}
