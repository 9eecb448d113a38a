import { getRun, patchRun } from '../store/runs';
import { getAlias, getVersion, registerVersion, setAlias, updateVersionStatus, type ModelVersionDoc } from '../store/registry';
import { loadDataset } from '../store/datasets';
import { loadVersion } from '../store/model-loader';
import { COLLECTIONS } from '../store/collections';
import { docToRecord, type UserDoc } from '../store/users';
import { transformBatch } from '../data/features';
import { evaluateBinary, type BinaryEvaluation } from '../ml/metrics';
import type { UserRecord } from '../data/record';
import { PRODUCTION_ALIAS } from '../common/constants';
import type { PromotionDecision, RegisteredVersion, SelectionSummary, TrainingSettings, Trigger } from '../common/workflow-types';
import { nonRetryable, FAILURE_TYPES } from './context';
import type { ActivityDeps } from './deps';
import { flatMetrics, type RefitSummary } from './evaluation';

export interface RegisterArgs {
  runId: string;
  modelName: string;
  datasetId: string;
  selection: SelectionSummary & { cvTable: ModelVersionDoc['cvTable'] };
  settings: TrainingSettings;
  trigger: Trigger;
  reason: string;
  timings: Record<string, number>;
}

export function createRegistryActivities({ db }: ActivityDeps) {
  /** Production's metrics re-measured on the candidate's holdout users, with production's own spec and threshold. */
  async function productionOnHoldout(modelName: string, prodVersion: number, datasetId: string) {
    const prod = await loadVersion(db, modelName, prodVersion);
    const ds = await loadDataset(db, datasetId);
    if (!prod || !ds) throw nonRetryable(FAILURE_TYPES.notFound, new Error(`cannot compare: production v${prodVersion} or dataset ${datasetId} missing`));
    const ids = ds.arrays.holdoutUserIds;
    const docs = await db.collection<UserDoc>(COLLECTIONS.users).find({ _id: { $in: ids } }).toArray();
    const byId = new Map(docs.map((d) => [d._id, docToRecord(d)]));
    const users = ids.map((id) => byId.get(id)).filter((u): u is UserRecord => u !== undefined && (u.label === 0 || u.label === 1));
    const X = transformBatch(prod.spec, users);
    const y = Uint8Array.from(users, (u) => u.label ?? 0);
    const p = prod.model.predictProba({ data: X, rows: users.length, cols: prod.spec.names.length });
    return flatMetrics(evaluateBinary(y, p, prod.threshold));
  }

  return {
    async recordRun(args: { runId: string; patch: Record<string, unknown> }): Promise<void> {
      // Dates cross the workflow boundary as ISO strings; store them as dates again.
      const patch: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(args.patch)) patch[k] = k.endsWith('At') && typeof v === 'string' ? new Date(v) : v;
      await patchRun(db, args.runId, patch);
    },

    /** Creates the version document for a run's refit model; idempotent by run id. */
    async registerCandidate(args: RegisterArgs): Promise<RegisteredVersion> {
      const run = await getRun(db, args.runId);
      const refit = run?.refit as RefitSummary | undefined;
      if (!refit) throw nonRetryable(FAILURE_TYPES.notFound, new Error(`run ${args.runId} has no refit model to register`));
      const ev = run!.evaluation as BinaryEvaluation;
      const ds = await loadDataset(db, args.datasetId);
      const doc = await registerVersion(db, {
        modelName: args.modelName,
        runId: args.runId,
        datasetId: args.datasetId,
        engine: args.settings.engine,
        params: args.selection.bestParams,
        cvTable: args.selection.cvTable,
        scoring: args.settings.scoring,
        threshold: args.selection.threshold,
        metrics: refit.metrics,
        confusion: { tp: ev.tp, fp: ev.fp, tn: ev.tn, fn: ev.fn },
        curves: { roc: { fpr: ev.rocCurve.fpr, tpr: ev.rocCurve.tpr }, pr: { precision: ev.prCurve.precision, recall: ev.prCurve.recall } },
        featureImportances: (run!.featureImportances as ModelVersionDoc['featureImportances']) ?? [],
        featureNames: ds?.doc.names ?? [],
        blob: refit.blob,
        timings: { ...args.timings, refitMs: refit.fitMs },
        trigger: args.trigger,
        reason: args.reason,
        status: 'candidate',
        createdAt: new Date(),
      });
      await setAlias(db, args.modelName, 'candidate', doc.version, { by: args.runId, reason: 'registered by training run' });
      return { modelName: doc.modelName, version: doc.version, metrics: doc.metrics };
    },

    /**
     * The candidate becomes production only if, on the same holdout, its recall does not fall
     * and its F1 drops by at most the tolerance, and it improves on at least one of recall, F1
     * or ROC AUC. The first model needs ROC AUC above an absolute floor.
     */
    async promotionGate(args: { modelName: string; version: number; runId: string; settings: Pick<TrainingSettings, 'promotionF1Tolerance' | 'promotionMinAuc'> }): Promise<PromotionDecision> {
      const cand = await getVersion(db, args.modelName, args.version);
      if (!cand) throw nonRetryable(FAILURE_TYPES.notFound, new Error(`model ${args.modelName} has no version ${args.version}`));
      if (cand.gate) return { promoted: cand.gate.promoted, reason: cand.gate.reason, previousVersion: cand.gate.comparedWith };
      const alias = await getAlias(db, args.modelName, PRODUCTION_ALIAS);
      if (alias?.version === args.version) {
        // A previous attempt moved the alias and crashed before recording the decision.
        const reason = alias.reason;
        await updateVersionStatus(db, args.modelName, args.version, { status: 'production', gate: { promoted: true, reason, comparedWith: null, at: new Date() } });
        return { promoted: true, reason, previousVersion: null };
      }
      const prodVersion = alias?.version ?? null;
      const m = cand.metrics;
      let promoted: boolean;
      let reason: string;
      if (prodVersion === null) {
        promoted = m.roc_auc! >= args.settings.promotionMinAuc;
        reason = promoted
          ? `first model: ROC AUC ${m.roc_auc!.toFixed(4)} ≥ floor ${args.settings.promotionMinAuc}`
          : `first model: ROC AUC ${m.roc_auc!.toFixed(4)} below floor ${args.settings.promotionMinAuc}`;
      } else {
        const p = await productionOnHoldout(args.modelName, prodVersion, cand.datasetId);
        const tol = args.settings.promotionF1Tolerance;
        const recallOk = m.recall! >= p.recall!;
        const f1Ok = m.f1! >= p.f1! - tol;
        const better = m.recall! > p.recall! || m.f1! > p.f1! || m.roc_auc! > p.roc_auc!;
        promoted = recallOk && f1Ok && better;
        const cmp = `recall ${m.recall!.toFixed(4)} vs ${p.recall!.toFixed(4)}, F1 ${m.f1!.toFixed(4)} vs ${p.f1!.toFixed(4)}, AUC ${m.roc_auc!.toFixed(4)} vs ${p.roc_auc!.toFixed(4)} (v${prodVersion} on the same holdout)`;
        reason = promoted ? `beats production: ${cmp}` : !recallOk ? `recall fell: ${cmp}` : !f1Ok ? `F1 dropped by more than ${tol}: ${cmp}` : `no improvement: ${cmp}`;
      }
      if (promoted) {
        await setAlias(db, args.modelName, PRODUCTION_ALIAS, args.version, { by: args.runId, reason, expect: prodVersion });
        if (prodVersion !== null) await updateVersionStatus(db, args.modelName, prodVersion, { status: 'archived' });
      }
      await updateVersionStatus(db, args.modelName, args.version, { status: promoted ? 'production' : 'rejected', gate: { promoted, reason, comparedWith: prodVersion, at: new Date() } });
      return { promoted, reason, previousVersion: prodVersion };
    },
  };
}
