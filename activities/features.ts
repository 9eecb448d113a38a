import { createHash } from 'node:crypto';
import { loadLabelledUsers, recordHash, countUsers } from '../store/users';
import { saveDataset, getDatasetDoc } from '../store/datasets';
import { fitFeatureSpec, transformBatch } from '../data/features';
import { splitHoldout } from '../data/split';
import { referenceHistograms } from '../ml/drift';
import type { SnapshotSummary, TrainingSettings } from '../common/workflow-types';
import { heartbeat, nonRetryable, FAILURE_TYPES } from './context';
import type { ActivityDeps } from './deps';
import type { UserRecord } from '../data/record';

/** Fewer labelled rows than this cannot fill k stratified folds plus a holdout meaningfully. */
const MIN_ROWS = 50;

function gather<T>(items: readonly T[], idx: Int32Array): T[] {
  const out = new Array<T>(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = items[idx[i]!]!;
  return out;
}

/**
 * Builds a dataset snapshot from every labelled user: split, fit the feature spec on the
 * training part only (top-K screens from the holdout would leak), transform all rows, store the
 * matrix once under a content-derived id. Same users + same settings → same id (idempotent).
 */
export function createFeatureActivities({ db }: ActivityDeps) {
  return {
    async buildSnapshot(settings: Pick<TrainingSettings, 'splitStrategy' | 'holdoutFraction' | 'seed'>): Promise<SnapshotSummary> {
      const users = await loadLabelledUsers(db);
      heartbeat({ stage: 'loaded', users: users.length });
      const y = new Uint8Array(users.length);
      const firstOpen = new Float64Array(users.length);
      const h = createHash('sha256').update(JSON.stringify(settings));
      users.forEach((u, i) => {
        y[i] = u.label ?? 0;
        firstOpen[i] = u.firstOpen;
        h.update(u.userId).update(recordHash(u));
      });
      const positives = y.reduce((a, b) => a + b, 0);
      if (users.length < MIN_ROWS || positives === 0 || positives === users.length) {
        throw nonRetryable(FAILURE_TYPES.insufficientData, new Error(`need at least ${MIN_ROWS} labelled users with both classes; have ${users.length} users, ${positives} buyers`));
      }
      const datasetId = `ds-${h.digest('hex').slice(0, 24)}`;
      const existing = await getDatasetDoc(db, datasetId);
      if (existing) return summary(existing);

      const { train, holdout } = splitHoldout({ firstOpen, y, strategy: settings.splitStrategy, holdoutFraction: settings.holdoutFraction, seed: settings.seed });
      const trainUsers: UserRecord[] = gather(users, train);
      const spec = fitFeatureSpec(trainUsers);
      const X = transformBatch(spec, users);
      const cols = spec.names.length;
      const trainX = new Float64Array(train.length * cols);
      for (let i = 0; i < train.length; i++) trainX.set(X.subarray(train[i]! * cols, (train[i]! + 1) * cols), i * cols);
      heartbeat({ stage: 'transformed', rows: users.length });
      const doc = await saveDataset(
        db,
        {
          _id: datasetId,
          spec,
          names: spec.names,
          rows: users.length,
          cols,
          labelRate: positives / users.length,
          trainRows: train.length,
          holdoutRows: holdout.length,
          splitStrategy: settings.splitStrategy,
          holdoutFraction: settings.holdoutFraction,
          seed: settings.seed,
          referenceHistograms: referenceHistograms(spec.names, trainX, train.length),
          usersAtSnapshot: await countUsers(db),
          createdAt: new Date(),
        },
        { X, y, train, holdout, holdoutUserIds: gather(users, holdout).map((u) => u.userId) },
      );
      return summary(doc);
    },
  };
}

function summary(doc: { _id: string; rows: number; cols: number; trainRows: number; holdoutRows: number; labelRate: number }): SnapshotSummary {
  return { datasetId: doc._id, rows: doc.rows, features: doc.cols, trainRows: doc.trainRows, holdoutRows: doc.holdoutRows, labelRate: doc.labelRate };
}
