import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { getAlias } from '../store/registry';
import { loadVersion, type LoadedModel } from '../store/model-loader';
import { forEachUser } from '../store/users';
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
import { heartbeat, resumeDetails } from './context';

/** Users per scoring job: one job document (≈ 0.5 MB) and one insert of scores per 500 users. */
export const SCORE_JOB_USERS = 2000;
const INSERT_USERS = 500;

interface ScoreJobDoc {
  _id: number;
  users: UserRecord[];
}

const jobsCollection = (db: Db, planId: string) => db.collection<ScoreJobDoc>(`score_jobs.${planId}`);

/**
 * Scoring every new user (issue 13 §1) in two steps, because on FerretDB only lookups by `_id`
 * avoid reading the whole table: the plan reads the users once and writes the ones to score
 * into job documents (by `_id`), one collection per plan; each job then reads its document by
 * `_id`, scores and inserts. Jobs are activities, so they spread over every worker.
 */
export function createScoringActivities({ db }: ActivityDeps) {
  // One loaded version per worker process: jobs of the same plan share it.
  let cached: Promise<LoadedModel | null> | null = null;
  let cachedKey = '';
  const model = (modelName: string, version: number) => {
    const key = `${modelName}@${version}`;
    if (cachedKey !== key || !cached) {
      cachedKey = key;
      cached = loadVersion(db, modelName, version);
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
      const jobs = jobsCollection(db, planId);
      await jobs.drop().catch(() => undefined);
      let batch: UserRecord[] = [];
      let nJobs = 0;
      let users = 0;
      let reScored = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        await jobs.insertOne({ _id: nJobs++, users: batch });
        batch = [];
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
      const audiences = await listAudiences(db, args.modelName);
      const reference = scored.probabilities.length > 0 ? scored.probabilities : Float64Array.from(m.doc.holdoutSample?.p ?? m.doc.scoreQuantiles ?? []);
      const curve = AudienceCurve.fromProbabilities(reference);
      const cutoffs: Record<string, number | null> = {};
      for (const a of audiences) cutoffs[a._id] = curve.n === 0 ? null : curve.select(a.rule).threshold;
      if (nJobs === 0) await jobs.drop().catch(() => undefined);
      return { planId: nJobs === 0 ? null : planId, version: alias.version, jobs: nJobs, users, reScored, dataTime: new Date(dataTime).toISOString(), cutoffs, reason: nJobs === 0 ? 'every user is scored' : `${users} users to score (${reScored} re-scored inside their window)` };
    },

    /** Scores one job's users and inserts their scores; a retry skips what an earlier attempt wrote. */
    async scoreJob(args: { modelName: string; version: number; planId: string; job: number; cutoffs: Record<string, number | null> }): Promise<ScoreJobResult> {
      const doc = await jobsCollection(db, args.planId).findOne({ _id: args.job });
      if (!doc) return { written: 0, skipped: 0, missing: true };
      const m = await model(args.modelName, args.version);
      if (!m) throw new Error(`model ${args.modelName} has no version ${args.version}`);
      const quantiles = m.doc.scoreQuantiles?.length ? Float64Array.from(m.doc.scoreQuantiles) : null;
      const from = resumeDetails<{ done: number }>()?.done ?? 0;
      const result: ScoreJobResult = { written: 0, skipped: from, missing: false };
      const scoredAt = new Date();
      for (let i = from; i < doc.users.length; i += INSERT_USERS) {
        const part = doc.users.slice(i, i + INSERT_USERS);
        const p = m.model.predictProba({ data: transformBatch(m.spec, part), rows: part.length, cols: m.spec.names.length });
        const scores: ScoreDoc[] = part.map((u, k) => {
          const audiences: Record<string, boolean> = {};
          for (const [name, cut] of Object.entries(args.cutoffs)) audiences[name] = cut !== null && p[k]! >= cut;
          return {
            _id: scoreId(args.modelName, args.version, u.userId), modelName: args.modelName, version: args.version, userId: u.userId,
            probability: p[k]!, percentile: percentileOf(quantiles, p[k]!), decision: p[k]! >= m.threshold, audiences,
            firstOpen: u.firstOpen, windowClosesAt: maturesAt(u.firstOpen), scoredAt,
          };
        });
        const n = await insertScores(db, scores);
        result.written += n;
        result.skipped += part.length - n;
        heartbeat({ done: i + part.length });
      }
      return result;
    },

    /** Drops the plan's job documents. */
    async finishScoring(args: { planId: string }): Promise<void> {
      await jobsCollection(db, args.planId).drop().catch(() => undefined);
    },
  };
}
