import { randomBytes } from 'node:crypto';
import { getAlias } from '../store/registry';
import { loadVersion, type LoadedModel } from '../store/model-loader';
import { forEachUser } from '../store/users';
import { packArrays, packColumns, unpackArrays, unpackColumns } from '../store/typed-pack';
import { dropScoreJobs, ORPHAN_PLAN_MS, readScoreJob, startScoreJobs, sweepScoreJobs, writeScoreJob } from '../store/score-jobs';
import { dataTime as dataNow } from '../store/data-time';
import { listAudiences } from '../store/audiences';
import { insertScores, scoreId, scoredUsers, type ScoreDoc } from '../store/scores';
import { transformBatch } from '../data/features';
import { maturesAt, type UserRecord } from '../data/record';
import { AudienceCurve } from '../ml/audience';
import { percentileOf } from '../ml/percentile';
import { PRODUCTION_ALIAS } from '../common/constants';
import type { ScoringPlan, ScoreJobResult } from '../common/workflow-types';
import type { ActivityDeps } from './deps';
import { activityLog, heartbeat, resumeDetails } from './context';

/** Users per scoring job: one job document (≈ 0.5 MB) and one insert of scores per 500 users. */
export const SCORE_JOB_USERS = 2000;
const INSERT_USERS = 500;

/**
 * Scoring every new user (issue 13 §1) in two steps, because on FerretDB only lookups by `_id`
 * avoid reading the whole table: the plan reads the users once, transforms the ones to score with
 * the version's spec and writes their vectors into job documents (by string `_id`), one collection
 * per plan; each job then reads its document by `_id`, scores and inserts. Jobs are activities,
 * so they spread over every worker.
 */
export function createScoringActivities({ db }: ActivityDeps) {
  // One loaded version per worker process: jobs of the same plan share it.
  let cached: Promise<LoadedModel | null> | null = null;
  let cachedKey = '';
  const model = (modelName: string, version: number) => {
    const key = `${modelName}@${version}`;
    if (cachedKey !== key || !cached) {
      cachedKey = key;
      const loading = loadVersion(db, modelName, version);
      cached = loading;
      // a failed load (a lost connection) must not be served to the retries from the cache
      loading.catch(() => { if (cached === loading) cached = null; });
    }
    return cached;
  };

  return {
    /**
     * Which users the production version must score: those no version has scored yet, and those
     * scored by an older version whose 24 h window is still open at the data's time (the latest
     * observation; a campaign can still reach them). Also fixes each saved audience's cut-off
     * for this run: the rule evaluated on the version's scores so far, or on its holdout before
     * it has any.
     */
    async planScoring(args: { modelName: string; planId?: string }): Promise<ScoringPlan> {
      const alias = await getAlias(db, args.modelName, PRODUCTION_ALIAS);
      if (!alias) return { planId: null, version: null, jobs: 0, users: 0, reason: 'no production model' };
      const m = await model(args.modelName, alias.version);
      if (!m) throw new Error(`alias ${PRODUCTION_ALIAS} points at missing version ${alias.version}`);
      const dataTime = (await dataNow(db)) ?? Date.now();
      const scored = await scoredUsers(db, args.modelName, alias.version);
      // The workflow names the plan, so a retried plan (a crash mid-read) starts its collection afresh
      const planId = args.planId && /^[A-Za-z0-9_-]{1,64}$/.test(args.planId) ? args.planId : randomBytes(6).toString('hex');
      await dropScoreJobs(db, planId);
      await startScoreJobs(db, planId);
      const swept = await sweepScoreJobs(db, { keep: planId });
      if (swept.length > 0) activityLog().info(`dropped ${swept.length} orphaned scoring-job collection(s) older than ${ORPHAN_PLAN_MS / 3_600_000} h`, { swept });
      let batch: UserRecord[] = [];
      let nJobs = 0;
      let users = 0;
      let reScored = 0;
      const cols = m.spec.names.length;
      // One job write in flight while the cursor reads on: the read and the write overlap.
      let inFlight: Promise<unknown> = Promise.resolve();
      const flush = async () => {
        if (batch.length === 0) return;
        // the vectors column by column in their smallest exact type (store/typed-pack.ts): a quarter of the bytes through FerretDB
        const pack = packArrays({ ...packColumns(transformBatch(m.spec, batch), batch.length, cols), firstOpen: Float64Array.from(batch, (u) => u.firstOpen) }, { ids: batch.map((u) => u.userId), cols, columns: true });
        const job = nJobs++;
        batch = [];
        await inFlight;
        inFlight = writeScoreJob(db, planId, job, pack);
        inFlight.catch(() => undefined); // handled by the next await; never an unhandled rejection meanwhile
        heartbeat({ planned: users });
      };
      await forEachUser(db, async (u, closes) => {
        const before = scored.scored.get(u.userId);
        if (before === true) return; // this version scored it
        if (before === false && closes <= dataTime) return; // an older version did, and its window closed
        if (before === false) reScored++;
        batch.push(u);
        users++;
        if (batch.length >= SCORE_JOB_USERS) await flush();
      });
      await flush();
      await inFlight;
      const audiences = await listAudiences(db, args.modelName);
      const reference = scored.probabilities.length > 0 ? scored.probabilities : Float64Array.from(m.doc.holdoutSample?.p ?? m.doc.scoreQuantiles ?? []);
      const curve = AudienceCurve.fromProbabilities(reference);
      const cutoffs: Record<string, number | null> = {};
      for (const a of audiences) cutoffs[a._id] = curve.n === 0 ? null : curve.select(a.rule).threshold;
      if (nJobs === 0) await dropScoreJobs(db, planId);
      activityLog().info('scoring planned', { modelName: args.modelName, version: alias.version, users, reScored, jobs: nJobs });
      return { planId: nJobs === 0 ? null : planId, version: alias.version, jobs: nJobs, users, reScored, dataTime: new Date(dataTime).toISOString(), cutoffs, reason: nJobs === 0 ? 'every user is scored' : `${users} users to score (${reScored} re-scored inside their window)` };
    },

    /** Scores one job's users and inserts their scores; a retry skips what an earlier attempt wrote. */
    async scoreJob(args: { modelName: string; version: number; planId: string; job: number; cutoffs: Record<string, number | null> }): Promise<ScoreJobResult> {
      const from = resumeDetails<{ done: number }>()?.done ?? 0;
      heartbeat({ done: from });
      const pack = await readScoreJob(db, args.planId, args.job);
      if (!pack) return { written: 0, skipped: 0, missing: true };
      const m = await model(args.modelName, args.version);
      if (!m) throw new Error(`model ${args.modelName} has no version ${args.version}`);
      const { meta, arrays } = unpackArrays(pack);
      const ids = meta.ids as string[];
      const cols = meta.cols as number;
      // jobs planned before the columns were packed hold the row-major matrix as X
      const X = meta.columns === true ? unpackColumns(arrays, ids.length, cols) : arrays.X as Float64Array;
      const firstOpen = arrays.firstOpen as Float64Array;
      if (cols !== m.spec.names.length) throw new Error(`job ${args.job} of plan ${args.planId} has ${cols} features, v${args.version} expects ${m.spec.names.length}`);
      const quantiles = m.doc.scoreQuantiles?.length ? Float64Array.from(m.doc.scoreQuantiles) : null;
      const result: ScoreJobResult = { written: 0, skipped: from, missing: false };
      const scoredAt = new Date();
      const cuts = Object.entries(args.cutoffs);
      for (let i = from; i < ids.length; i += INSERT_USERS) {
        const rows = Math.min(INSERT_USERS, ids.length - i);
        const p = m.model.predictProba({ data: X.subarray(i * cols, (i + rows) * cols), rows, cols });
        const scores: ScoreDoc[] = [];
        for (let k = 0; k < rows; k++) {
          const audiences: Record<string, boolean> = {};
          for (const [name, cut] of cuts) audiences[name] = cut !== null && p[k]! >= cut;
          const userId = ids[i + k]!;
          const t = firstOpen[i + k]!;
          scores.push({
            _id: scoreId(args.modelName, args.version, userId), modelName: args.modelName, version: args.version, userId,
            probability: p[k]!, percentile: percentileOf(quantiles, p[k]!), decision: p[k]! >= m.threshold, audiences,
            firstOpen: t, windowClosesAt: maturesAt(t), scoredAt,
          });
        }
        const n = await insertScores(db, scores);
        result.written += n;
        result.skipped += rows - n;
        heartbeat({ done: i + rows });
      }
      return result;
    },

    /** Drops the plan's job documents. */
    async finishScoring(args: { planId: string }): Promise<void> {
      await dropScoreJobs(db, args.planId);
    },
  };
}
