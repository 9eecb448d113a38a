import { getAlias, getVersion } from '../store/registry';
import { loadDatasetUsers } from '../store/datasets';
import { loadVersion } from '../store/model-loader';
import { tallyUsers } from '../store/users';
import { observationTime } from '../store/data-time';
import { PRODUCTION_ALIAS } from '../common/constants';
import type { MonitorPolicy, TriggerState } from '../common/messages';
import type { ActivityDeps } from './deps';
import { TRIGGER_DEFS, windowReader, type TriggerContext } from './triggers';

export interface MonitorCheck {
  productionVersion: number | null;
  /** Every stored user: automatic retrains wait for this to change after one ran. */
  usersNow: number;
  /** The data time the check measured at (ISO), null before any ingest. */
  dataTime: string | null;
  triggers: TriggerState[];
}

export function createMonitoringActivities({ db }: ActivityDeps) {
  return {
    /**
     * Evaluates every automatic trigger (activities/triggers.ts) against the policy, at the
     * data's own time: the latest observation of any ingested batch or reported purchase.
     */
    async monitorCheck(args: { modelName: string; policy: MonitorPolicy }): Promise<MonitorCheck> {
      // One pass over the users for the count, the newest first open and the new-data trigger's
      // matured users (on FerretDB each of them alone decodes every stored user).
      const [tally, now, alias] = await Promise.all([tallyUsers(db), observationTime(db), getAlias(db, args.modelName, PRODUCTION_ALIAS)]);
      const usersNow = tally.total;
      const newestUser = tally.latestFirstOpen;
      let production: TriggerContext['production'] = null;
      const doc = alias ? await getVersion(db, args.modelName, alias.version) : null;
      if (doc) {
        const [ds, model] = await Promise.all([loadDatasetUsers(db, doc.datasetId), loadVersion(db, args.modelName, doc.version)]);
        if (ds && model) production = { doc, dataset: ds.doc, model, trainIds: new Set(ds.users.trainUserIds) };
      }
      const windowUsers = windowReader(db, args.policy, now, newestUser, production?.trainIds ?? new Set());
      const ctx: TriggerContext = { db, modelName: args.modelName, policy: args.policy, now, newestUser, matured: tally.matured, windowUsers, production };
      const triggers: TriggerState[] = [];
      for (const t of TRIGGER_DEFS) triggers.push({ name: t.name, threshold: t.threshold(args.policy), ...(await t.evaluate(ctx)) });
      return { productionVersion: doc?.version ?? null, usersNow, dataTime: now === null ? null : new Date(now).toISOString(), triggers };
    },
  };
}
