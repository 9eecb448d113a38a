/**
 * The monitor's automatic retrain triggers, one object each: a trigger reads what it needs from
 * the context and says what it measured, on how many users, against which threshold. The
 * monitor activity evaluates the list in order; status, pages and the workflow only see
 * `TriggerState`s.
 */
import type { Db } from 'mongodb';
import type { ModelVersionDoc } from '../store/registry';
import type { DatasetDoc } from '../store/datasets';
import type { LoadedModel } from '../store/model-loader';
import { driftSample, usersInWindows } from '../store/users';
import type { UserRecord } from '../data/record';
import { apiOnlyOutcomes } from '../store/outcomes';
import { transformBatch } from '../data/features';
import { LABEL_WINDOW_MS } from '../data/record';
import { calendarLeftOut, driftReport } from '../ml/drift';
import { rocAuc } from '../ml/metrics';
import { f1Interval } from '../ml/f1-interval';
import type { TriggerState } from '../common/messages';
import { TRIGGER_NAMES, type MonitorPolicy, type TriggerName } from '../common/monitor-policy';

const DAY_MS = 86_400_000;
/** At most this many users enter one window sample (bounded memory and time per check). */
export const MAX_WINDOW_USERS = 50_000;
/** Fewer matured buyers than this in the window: F1 is too noisy to act on (SE of recall ≈ 0.07 at 20). */
export const MIN_LIVE_POSITIVES = 20;


export interface TriggerContext {
  db: Db;
  modelName: string;
  policy: MonitorPolicy;
  /** The data's own time: the latest observation of any batch or outcome (null before the first ingest). */
  now: number | null;
  /**
   * Where windows end: the latest first open stored. Not `now`, which a late purchase in an
   * export can push days past the newest user; a window by first open ends at the newest user.
   */
  newestUser: number | null;
  /** Stored users whose label is known, counted by the same read as `newestUser`. */
  matured: number;
  /**
   * The users of the last `windowDays` of first opens outside production's training set, newest
   * first, read once for the triggers that need them ({@link windowReader}): `closed` matured
   * users whose window closed by `now` (degradation), `recent` every user (drift).
   */
  windowUsers(): Promise<{ closed: UserRecord[]; recent: UserRecord[] }>;
  production: { doc: ModelVersionDoc; dataset: DatasetDoc; model: LoadedModel; trainIds: ReadonlySet<string> } | null;
}

/** How one trigger of common/monitor-policy.ts measures; its name is its key in {@link TRIGGER_DEFS}. */
export interface TriggerDef {
  threshold(policy: MonitorPolicy): number;
  evaluate(ctx: TriggerContext): Promise<Omit<TriggerState, 'name' | 'threshold'>>;
}

/**
 * The monitor's window by first open: from `windowDays` before the newest user; matured users
 * count only up to `closedTo`, where a window closed by the data's time `now`.
 */
export function monitorWindow(policy: MonitorPolicy, now: number | null, newestUser: number): { from: number; closedTo: number } {
  return { from: newestUser - policy.windowDays * DAY_MS, closedTo: now === null ? Number.NEGATIVE_INFINITY : Math.min(newestUser, now - LABEL_WINDOW_MS) };
}

/**
 * {@link TriggerContext.windowUsers}: one read newest first over {@link monitorWindow},
 * filling both lists (at most {@link MAX_WINDOW_USERS} each), made the first time a trigger asks.
 */
export function windowReader(db: Db, policy: MonitorPolicy, now: number | null, newestUser: number | null, trainIds: ReadonlySet<string>): TriggerContext['windowUsers'] {
  let read: Promise<{ closed: UserRecord[]; recent: UserRecord[] }> | null = null;
  return () => (read ??= (async () => {
    if (newestUser === null) return { closed: [], recent: [] };
    const { from, closedTo } = monitorWindow(policy, now, newestUser);
    const [closed, recent] = await usersInWindows(db, { from, exclude: trainIds, takes: [
      { to: closedTo, maturedOnly: true, limit: MAX_WINDOW_USERS },
      { to: newestUser, maturedOnly: false, limit: MAX_WINDOW_USERS },
    ] });
    return { closed: closed!, recent: recent! };
  })());
}

const none = (detail: string) => ({ value: null, fired: false, n: null, detail });

/** New data in the unit training uses: users matured since production's snapshot / matured users in it. */
const newData: TriggerDef = {
  threshold: (p) => p.newDataRatio,
  async evaluate({ policy, matured, production }) {
    if (!production) return none('no production model');
    const base = production.dataset.matured ?? production.dataset.rows;
    const fresh = Math.max(0, matured - base);
    const ratio = fresh / Math.max(1, base);
    return {
      value: ratio, fired: ratio >= policy.newDataRatio, n: fresh,
      detail: `${fresh} users matured since production's snapshot ${production.dataset._id} (${base} matured users in it)`,
    };
  },
};

/**
 * Live F1 of production at its own threshold on matured users whose first open lies in the last
 * `windowDays` days of data time and whose window closed, excluding production's training users;
 * labels from ingest and POST /v1/outcomes. Compared with production's holdout F1 (like with like).
 */
const degradation: TriggerDef = {
  threshold: (p) => 1 - p.f1Drop,
  async evaluate({ db, modelName, policy, now, newestUser, windowUsers, production }) {
    if (!production) return none('no production model');
    if (now === null || newestUser === null) return none('no ingested data yet');
    // Only users whose window closed by the data's time can be matured.
    const { from, closedTo: to } = monitorWindow(policy, now, newestUser);
    const stored = (await windowUsers()).closed;
    const m = production.model;
    const pStored = stored.length ? m.model.predictProba({ data: transformBatch(m.spec, stored), rows: stored.length, cols: m.spec.names.length }) : new Float64Array(0);
    const api = await apiOnlyOutcomes(db, { modelName, version: production.doc.version, from, to, now, skip: new Set(stored.map((u) => u.userId)) });
    const n = stored.length + api.y.length;
    const y = new Uint8Array(n);
    const p = new Float64Array(n);
    stored.forEach((u, i) => { y[i] = u.label ?? 0; p[i] = pStored[i]!; });
    api.y.forEach((v, i) => { y[stored.length + i] = v; p[stored.length + i] = api.p[i]!; });
    let tp = 0, fp = 0, fn = 0, tn = 0, positives = 0, sumP = 0;
    for (let i = 0; i < n; i++) {
      const hit = i < stored.length ? p[i]! >= m.threshold : api.decision[i - stored.length]!;
      positives += y[i]!;
      sumP += p[i]!;
      if (hit && y[i]) tp++;
      else if (hit) fp++;
      else if (y[i]) fn++;
      else tn++;
    }
    const where = `${n} matured users with first open in the ${policy.windowDays} days before ${new Date(newestUser).toISOString()} (${stored.length} ingested, ${api.y.length} scored by the API only; production's training users left out)`;
    if (n === 0) return none(`no matured outcomes: ${where}${api.predicted > 0 && !api.sourceActive ? '; API-scored users have no outcome source' : ''}`);
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = positives ? tp / positives : 0;
    const f1 = tp ? (2 * tp) / (2 * tp + fp + fn) : 0;
    const base = production.doc.metrics.f1 ?? 0;
    const measured = {
      f1, precision, recall, roc_auc: positives > 0 && positives < n ? rocAuc(y, p) : Number.NaN,
      mean_probability: sumP / n, observed_rate: positives / n, positives, holdout_f1: base,
    };
    if (n < policy.minOutcomes || positives < MIN_LIVE_POSITIVES || base <= 0) {
      return { value: null, fired: false, n, measured, detail: `${where}, ${positives} buyers: need ${policy.minOutcomes} users and ${MIN_LIVE_POSITIVES} buyers` };
    }
    const ratio = f1 / base;
    // A drop smaller than its noise is no drop: fire only when F1 fell by f1Drop *and* the 95 %
    // bootstrap interval of live F1 lies wholly below production's holdout F1.
    const [lo, hi] = f1Interval({ tp, fp, fn, tn });
    const significant = hi < base;
    return {
      value: ratio, fired: ratio <= 1 - policy.f1Drop && significant, n, measured: { ...measured, f1_lower_95: lo, f1_upper_95: hi },
      detail: `live F1 ${f1.toFixed(4)} [95 % ${lo.toFixed(4)}, ${hi.toFixed(4)}] (precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}, ROC AUC ${measured.roc_auc.toFixed(3)}, mean p ${measured.mean_probability.toFixed(3)} vs observed ${measured.observed_rate.toFixed(3)}) vs ${base.toFixed(4)} on production's holdout${ratio <= 1 - policy.f1Drop && !significant ? ' — within noise, not acted on' : ''}; ${where}, ${positives} buyers`,
    };
  },
};

/**
 * PSI of every feature: production's reference histograms against the newest users outside
 * production's training set — the newest full day of first opens and at least `minDriftUsers`
 * users, never more than `windowDays` back. A whole week would dilute a fresh shift 1:7 (the
 * replay measured detection on day 8 for a shift on day 5); one day is the smallest sample that
 * keeps hour_of_day meaningful. Weekly calendar features are left out when the sample spans less
 * than a week. Fires when at least `driftShare` of the features, and at least one, reach PSI 0.25.
 */
const drift: TriggerDef = {
  threshold: (p) => p.driftShare,
  async evaluate({ policy, newestUser, windowUsers, production }) {
    if (!production) return none('no production snapshot');
    if (newestUser === null) return none('no ingested data yet');
    // the sample the drift page shows too (store/users.ts newestUsersSample)
    const { users, span } = driftSample((await windowUsers()).recent, newestUser, policy.minDriftUsers);
    if (users.length < policy.minDriftUsers) return { ...none(`${users.length} users in the last ${policy.windowDays} days outside production's training set (need ${policy.minDriftUsers} for PSI)`), n: users.length };
    const left = calendarLeftOut(span);
    const ds = production.dataset;
    const refs = ds.referenceHistograms.filter((r) => !left.includes(r.feature));
    const X = transformBatch(ds.spec, users);
    const report = driftReport(refs, X, users.length, ds.names);
    const drifted = report.filter((d) => d.level === 'drift');
    const share = drifted.length / Math.max(1, report.length);
    // The share, as a count: at least one feature, and no fractional feature decides.
    const needed = Math.max(1, Math.ceil(policy.driftShare * report.length - 1e-9));
    const worst = [...report].sort((a, b) => b.psi - a.psi).slice(0, 3).map((d) => `${d.feature} ${d.psi.toFixed(2)}`).join(', ');
    return {
      value: share, fired: drifted.length >= needed, n: users.length,
      measured: Object.fromEntries(report.map((d) => [d.feature, d.psi])),
      detail: `newest ${users.length} users (${(span / DAY_MS).toFixed(1)} days of first opens) outside production's training set; PSI ≥ 0.25 on ${drifted.length} of ${report.length} features, ${needed} needed (worst: ${worst})${left.length ? `; left out (sample spans < ${span < DAY_MS ? 'a day' : 'a week'}): ${left.join(', ')}` : ''}`,
    };
  },
};

/** One measurement per trigger of the policy list (the type asks for each name there). */
const DEFS: { readonly [T in TriggerName]: TriggerDef } = { 'new-data': newData, degradation, drift };

/** Every automatic trigger, in the order common/monitor-policy.ts lists them. */
export const TRIGGER_DEFS: readonly (TriggerDef & { name: TriggerName })[] = TRIGGER_NAMES.map((name) => ({ name, ...DEFS[name] }));
