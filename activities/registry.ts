import { getRun, patchRun } from '../store/runs';
import { registerVersion, setAlias, type ModelVersionDoc } from '../store/registry';
import { getDatasetDoc } from '../store/datasets';
import type { BinaryEvaluation } from '../ml/metrics';
import type { RegisteredVersion, SelectionSummary, TrainingSettings, Trigger } from '../common/workflow-types';
import { nonRetryable, FAILURE_TYPES } from './context';
import type { ActivityDeps } from './deps';
import type { RefitSummary } from './evaluation';

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
      const ds = await getDatasetDoc(db, args.datasetId);
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
        featureNames: ds?.names ?? [],
        calibration: { kind: args.selection.calibration, oof: (run!.oofEvaluation as Record<string, number>) ?? {}, uncalibrated: (run!.uncalibrated as Record<string, number>) ?? {} },
        reliability: run!.reliability as ModelVersionDoc['reliability'],
        scoreQuantiles: run!.scoreQuantiles as number[],
        holdoutSample: run!.holdoutSample as ModelVersionDoc['holdoutSample'],
        featureContributions: (run!.featureContributions as ModelVersionDoc['featureContributions']) ?? undefined,
        leakage: (run!.leakage as ModelVersionDoc['leakage']) ?? [],
        singleFeatureAuc: (run!.singleFeatureAuc as ModelVersionDoc['singleFeatureAuc']) ?? [],
        selectionRule: args.selection.selectionRule,
        trainFingerprint: ds?.trainFingerprint,
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

  };
}
