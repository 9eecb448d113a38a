import type { Db } from 'mongodb';
import { getAlias, getVersion, setAlias, updateVersionStatus, type ModelVersionDoc } from '../store/registry';
import { loadDatasetUsers, getDatasetDoc, type DatasetDoc } from '../store/datasets';
import { loadVersion, type LoadedModel } from '../store/model-loader';
import { maturedUsersByIds } from '../store/users';
import { transformBatch } from '../data/features';
import { pairedBootstrap, type PairedBootstrapResult } from '../ml/compare';
import type { UserRecord } from '../data/record';
import { PRODUCTION_ALIAS } from '../common/constants';
import type { PromotionDecision, PromotionPolicy, PromotionRecord, TrainingSettings } from '../common/workflow-types';
import { nonRetryable, FAILURE_TYPES } from './context';
import type { ActivityDeps } from './deps';

const score = (m: LoadedModel, users: UserRecord[]) => m.model.predictProba({ data: transformBatch(m.spec, users), rows: users.length, cols: m.spec.names.length });

/**
 * The decision rule on a paired comparison (docs/decisions.md "A fair promotion gate"). Both
 * rules require the ROC AUC difference's interval to stay above −aucMargin. `better` requires
 * the precision-at-target-recall difference's interval to lie above 0; `non-inferior` requires
 * it above −margin and that the candidate was trained on newer data (an identical retrain is no
 * reason to move production).
 */
export function decidePromotion(cmp: Pick<PairedBootstrapResult, 'interval' | 'n' | 'positives'>, policy: PromotionPolicy, sawNewerData: boolean): { verdict: PromotionRecord['verdict']; why: string } {
  if (cmp.n < policy.minUsers || cmp.positives < policy.minPositives) {
    return { verdict: 'insufficient-evidence', why: `only ${cmp.n} users (${cmp.positives} buyers) unseen by both models; the gate needs ${policy.minUsers} users and ${policy.minPositives} buyers` };
  }
  const [pLo, pHi] = cmp.interval.precisionAtRecall;
  const [aLo, aHi] = cmp.interval.rocAuc;
  const p = `Δ precision@recall interval [${pLo.toFixed(4)}, ${pHi.toFixed(4)}]`;
  const a = `Δ ROC AUC interval [${aLo.toFixed(4)}, ${aHi.toFixed(4)}]`;
  if (!(aLo > -policy.aucMargin)) return { verdict: 'rejected', why: `${a} reaches below −${policy.aucMargin}` };
  if (policy.rule === 'better') {
    return pLo > 0 ? { verdict: 'promoted', why: `better: ${p} lies above 0; ${a}` } : { verdict: 'rejected', why: `not shown better: ${p} does not lie above 0` };
  }
  if (!(pLo > -policy.margin)) return { verdict: 'rejected', why: `inferior: ${p} reaches below −${policy.margin}` };
  if (!sawNewerData) return { verdict: 'rejected', why: `non-inferior (${p}) but trained on no newer data than production` };
  return { verdict: 'promoted', why: `non-inferior on newer data: ${p} lies above −${policy.margin}; ${a}` };
}

/**
 * Whether a snapshot has enough matured users of each class for any decision about its model
 * (issue 13 §4, as hosted products' "not eligible"): null when it has, else the reason with the counts.
 */
export function eligibility(ds: Pick<DatasetDoc, 'rows' | 'labelRate'>, policy: PromotionPolicy): { positives: number; negatives: number; why: string | null } {
  const positives = Math.round(ds.rows * ds.labelRate);
  const negatives = ds.rows - positives;
  const minP = policy.eligibleMinPositives ?? 0;
  const minN = policy.eligibleMinNegatives ?? 0;
  const short = [positives < minP ? `${positives} matured buyers (needs ${minP})` : null, negatives < minN ? `${negatives} matured non-buyers (needs ${minN})` : null].filter((x) => x !== null);
  return { positives, negatives, why: short.length ? `not eligible: the snapshot has ${short.join(' and ')}` : null };
}

/**
 * The users the two models are compared on: the candidate's holdout (it never trained on them),
 * minus any production trained on (it can only happen when the split settings changed between
 * the two snapshots), still matured now. With the time split, the users that arrived after
 * production's snapshot are used when there are enough of them: what production would see next.
 */
async function unseenUsers(db: Db, cand: DatasetDoc, prodDs: DatasetDoc | null, policy: PromotionPolicy) {
  const c = await loadDatasetUsers(db, cand._id);
  if (!c) throw nonRetryable(FAILURE_TYPES.notFound, new Error(`dataset ${cand._id} missing`));
  const p = prodDs ? await loadDatasetUsers(db, prodDs._id) : null;
  const seen = new Set(p?.users.trainUserIds ?? []);
  const ids = c.users.holdoutUserIds.filter((id) => !seen.has(id));
  const excluded = c.users.holdoutUserIds.length - ids.length;
  const users = await maturedUsersByIds(db, ids);
  let evalSet = prodDs && !p?.users.trainUserIds.length
    ? "candidate's holdout (production's snapshot records no training ids: overlap not checked)"
    : "candidate's holdout users that production did not train on";
  let chosen = users;
  if (cand.splitStrategy === 'time' && prodDs) {
    const newer = users.filter((u) => u.firstOpen > prodDs.latestFirstOpen);
    const pos = newer.reduce((a, u) => a + (u.label ?? 0), 0);
    if (newer.length >= policy.minUsers && pos >= policy.minPositives) {
      chosen = newer;
      evalSet = "candidate's holdout users who first opened after production's snapshot";
    }
  }
  return { users: chosen, excluded, evalSet };
}

export function createPromotionActivities({ db }: ActivityDeps) {
  async function record(modelName: string, version: number, promoted: boolean, rec: PromotionRecord) {
    await updateVersionStatus(db, modelName, version, { status: promoted ? 'production' : 'rejected', gate: { promoted, reason: rec.reason, comparedWith: rec.comparedWith, at: rec.at }, promotion: rec });
  }

  return {
    /**
     * The candidate becomes production when it passes the run's promotion rule on users neither
     * model trained on, compared at the same operating point (precision at the target recall,
     * each model at its own threshold for that recall on these users) with a seeded paired
     * bootstrap. The first model needs ROC AUC above an absolute floor on its holdout.
     */
    async promotionGate(args: { modelName: string; version: number; runId: string; settings: Pick<TrainingSettings, 'promotion' | 'targetRecall' | 'seed'> }): Promise<PromotionDecision> {
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
      const policy = args.settings.promotion;
      const prodVersion = alias?.version ?? null;
      const base = { comparedWith: prodVersion, targetRecall: args.settings.targetRecall, policy, at: new Date(), excludedSeenByProduction: 0 };
      let rec: PromotionRecord;
      const ds = await getDatasetDoc(db, cand.datasetId);
      const elig = ds ? eligibility(ds, policy) : null;
      if (elig?.why) {
        rec = {
          ...base, rule: 'eligibility', verdict: 'not-eligible', reason: elig.why, evalSet: "candidate's snapshot", n: ds!.rows, positives: elig.positives,
          candidate: null, production: null, diff: null, interval: null, confidence: null, resamples: null, sawNewerData: null,
        };
      } else if (prodVersion === null) {
        const m = cand.metrics;
        const ok = m.roc_auc! >= policy.minAuc;
        rec = {
          ...base, rule: 'first-model', verdict: ok ? 'promoted' : 'rejected',
          reason: `first model: holdout ROC AUC ${m.roc_auc!.toFixed(4)} ${ok ? '≥' : 'below'} floor ${policy.minAuc}`,
          evalSet: "candidate's holdout", n: m.n ?? 0, positives: m.positives ?? 0,
          candidate: { precision_at_target_recall: m.precision_at_target_recall ?? Number.NaN, roc_auc: m.roc_auc! },
          production: null, diff: null, interval: null, confidence: null, resamples: null, sawNewerData: null,
        };
      } else {
        rec = await compare(db, cand, prodVersion, args.settings, base);
      }
      const promoted = rec.verdict === 'promoted';
      if (promoted) {
        await setAlias(db, args.modelName, PRODUCTION_ALIAS, args.version, { by: args.runId, reason: rec.reason, expect: prodVersion });
        if (prodVersion !== null) await updateVersionStatus(db, args.modelName, prodVersion, { status: 'archived' });
      }
      await record(args.modelName, args.version, promoted, rec);
      return { promoted, reason: rec.reason, previousVersion: prodVersion };
    },
  };
}

async function compare(db: Db, cand: ModelVersionDoc, prodVersion: number, settings: Pick<TrainingSettings, 'promotion' | 'targetRecall' | 'seed'>, base: Omit<PromotionRecord, 'rule' | 'verdict' | 'reason' | 'evalSet' | 'n' | 'positives' | 'candidate' | 'production' | 'diff' | 'interval' | 'confidence' | 'resamples' | 'sawNewerData'>): Promise<PromotionRecord> {
  const policy = settings.promotion;
  const [candModel, prodModel] = await Promise.all([loadVersion(db, cand.modelName, cand.version), loadVersion(db, cand.modelName, prodVersion)]);
  const [candDs, prodDs] = await Promise.all([getDatasetDoc(db, cand.datasetId), prodModel ? getDatasetDoc(db, prodModel.doc.datasetId) : null]);
  if (!candModel || !prodModel || !candDs) throw nonRetryable(FAILURE_TYPES.notFound, new Error(`cannot compare: v${cand.version}, production v${prodVersion} or dataset ${cand.datasetId} missing`));
  const { users, excluded, evalSet } = await unseenUsers(db, candDs, prodDs, policy);
  const sawNewerData = prodDs === null ? true
    : candDs.trainFingerprint !== prodDs.trainFingerprint && candDs.matured >= (prodDs.matured ?? 0) && candDs.latestFirstOpen >= (prodDs.latestFirstOpen ?? Number.NEGATIVE_INFINITY);
  const y = Uint8Array.from(users, (u) => u.label ?? 0);
  const positives = y.reduce((a, b) => a + b, 0);
  const common = { ...base, rule: policy.rule, evalSet, excludedSeenByProduction: excluded, sawNewerData, n: users.length, positives };
  if (users.length < 2 || positives === 0 || positives === users.length) {
    const d = decidePromotion({ n: users.length, positives, interval: { precisionAtRecall: [0, 0], rocAuc: [0, 0] } }, { ...policy, minUsers: Math.max(policy.minUsers, 2), minPositives: Math.max(policy.minPositives, 1) }, sawNewerData);
    return { ...common, verdict: 'insufficient-evidence', reason: d.why, candidate: null, production: null, diff: null, interval: null, confidence: null, resamples: null };
  }
  const b = pairedBootstrap(y, score(candModel, users), score(prodModel, users), { targetRecall: settings.targetRecall, resamples: policy.resamples, seed: settings.seed });
  const d = decidePromotion(b, policy, sawNewerData);
  const two = (m: { precisionAtRecall: number; rocAuc: number }) => ({ precision_at_target_recall: m.precisionAtRecall, roc_auc: m.rocAuc });
  const figures = `precision@recall ${settings.targetRecall}: ${b.candidate.precisionAtRecall.toFixed(4)} vs ${b.production.precisionAtRecall.toFixed(4)}, AUC ${b.candidate.rocAuc.toFixed(4)} vs ${b.production.rocAuc.toFixed(4)} (v${prodVersion}) on ${b.n} unseen users`;
  return {
    ...common, verdict: d.verdict, reason: `${d.why}; ${figures}`,
    candidate: two(b.candidate), production: two(b.production), diff: two(b.diff),
    interval: { precision_at_target_recall: b.interval.precisionAtRecall, roc_auc: b.interval.rocAuc },
    confidence: b.confidence, resamples: b.resamples,
  };
}
