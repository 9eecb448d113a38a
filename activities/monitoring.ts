import { COLLECTIONS } from '../store/collections';
import { getAlias, getVersion } from '../store/registry';
import { getDatasetDoc, latestDataset } from '../store/datasets';
import { docToRecord, countUsers, type UserDoc } from '../store/users';
import { liveConfusion } from '../store/outcomes';
import { getRun } from '../store/runs';
import { transformBatch } from '../data/features';
import { driftReport } from '../ml/drift';
import { PRODUCTION_ALIAS } from '../common/constants';
import type { MonitorPolicy, TriggerState } from '../workflows/messages';
import type { ActivityDeps } from './deps';
import { trainingSettings } from '../config';
import type { TrainingSettings } from '../common/workflow-types';

/** Fewer new users than this cannot give a stable PSI over 10 bins; drift is then not assessed. */
const MIN_DRIFT_ROWS = 200;
/** At most this many of the newest users enter the drift sample (bounded memory and time). */
const MAX_DRIFT_ROWS = 50_000;

export interface MonitorCheck {
  productionVersion: number | null;
  usersNow: number;
  triggers: TriggerState[];
  drift: { feature: string; psi: number; level: string }[];
}

export function createMonitoringActivities({ db, config }: ActivityDeps) {
  return {
    /**
     * The training settings a run started now should use: this worker's configuration at this
     * moment (a redeployed worker with a new PARAM_GRID changes the next monitor-started run),
     * never those frozen into the monitor's input when it was first started.
     */
    async currentTrainingSettings(args: { modelName: string }): Promise<TrainingSettings> {
      return { ...trainingSettings(config), modelName: args.modelName };
    },

    /**
     * Evaluates the three automatic triggers against the policy: new data since the newest
     * snapshot, live F1 of production against its F1 at promotion, PSI drift of new users
     * against production's reference histograms.
     */
    async monitorCheck(args: { modelName: string; policy: MonitorPolicy }): Promise<MonitorCheck> {
      const { policy } = args;
      const usersNow = await countUsers(db);
      const alias = await getAlias(db, args.modelName, PRODUCTION_ALIAS);
      const prod = alias ? await getVersion(db, args.modelName, alias.version) : null;
      const triggers: TriggerState[] = [];
      let drift: MonitorCheck['drift'] = [];

      const newest = await latestDataset(db);
      if (!newest) triggers.push({ name: 'new-data', value: null, threshold: policy.newDataRatio, fired: false, detail: 'no snapshot yet' });
      else {
        const fresh = await countUsers(db, { ingestedAt: { $gt: newest.createdAt } });
        const ratio = fresh / Math.max(1, newest.trainRows);
        triggers.push({ name: 'new-data', value: ratio, threshold: policy.newDataRatio, fired: ratio >= policy.newDataRatio, detail: `${fresh} users ingested since snapshot ${newest._id} (${newest.trainRows} training rows)` });
      }

      if (!prod) triggers.push({ name: 'degradation', value: null, threshold: 1 - policy.f1Drop, fired: false, detail: 'no production model' });
      else {
        const c = await liveConfusion(db, args.modelName, prod.version, new Date());
        const f1 = c.tp === 0 ? 0 : (2 * c.tp) / (2 * c.tp + c.fp + c.fn);
        const base = prod.metrics.f1 ?? 0;
        const enough = c.labelled >= policy.minOutcomes && base > 0;
        const ratio = enough ? f1 / base : null;
        triggers.push({
          name: 'degradation', value: ratio, threshold: 1 - policy.f1Drop, fired: ratio !== null && ratio <= 1 - policy.f1Drop,
          detail: enough ? `live F1 ${f1.toFixed(4)} over ${c.labelled} outcomes vs ${base.toFixed(4)} at promotion` : `${c.labelled} labelled outcomes (need ${policy.minOutcomes})`,
        });
      }

      const ds = prod ? await getDatasetDoc(db, prod.datasetId) : null;
      if (!ds) triggers.push({ name: 'drift', value: null, threshold: policy.driftShare, fired: false, detail: 'no production snapshot' });
      else {
        const docs = await db.collection<UserDoc>(COLLECTIONS.users).find({ ingestedAt: { $gt: ds.createdAt } }).sort({ ingestedAt: -1 }).limit(MAX_DRIFT_ROWS).toArray();
        if (docs.length < MIN_DRIFT_ROWS) triggers.push({ name: 'drift', value: null, threshold: policy.driftShare, fired: false, detail: `${docs.length} new users (need ${MIN_DRIFT_ROWS} for PSI)` });
        else {
          const X = transformBatch(ds.spec, docs.map(docToRecord));
          drift = driftReport(ds.referenceHistograms, X, docs.length, ds.names).map((d) => ({ feature: d.feature, psi: d.psi, level: d.level }));
          const share = drift.filter((d) => d.level === 'drift').length / Math.max(1, drift.length);
          const worst = [...drift].sort((a, b) => b.psi - a.psi).slice(0, 3).map((d) => `${d.feature} ${d.psi.toFixed(2)}`).join(', ');
          triggers.push({ name: 'drift', value: share, threshold: policy.driftShare, fired: share >= policy.driftShare, detail: `${docs.length} new users; PSI ≥ 0.25 on ${(share * 100).toFixed(0)} % of features (worst: ${worst})` });
        }
      }
      return { productionVersion: prod?.version ?? null, usersNow, triggers, drift };
    },

    /** Whether a training run (by workflow id) has finished, from its run document. */
    async runState(args: { runId: string }): Promise<'running' | 'completed' | 'failed' | 'unknown'> {
      const run = await getRun(db, args.runId);
      return (run?.status as 'running' | 'completed' | 'failed' | undefined) ?? 'unknown';
    },
  };
}
