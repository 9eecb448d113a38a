import type { Db } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { ORPHAN_PLAN_MS, readScoreJob, startScoreJobs, sweepScoreJobs, writeScoreJob } from '../../store/score-jobs';
import { useFileDb } from '../helpers/ingest';

/**
 * A scoring plan whose workflow failed for good leaves its `score_jobs.<plan>` collection; the
 * next plan sweeps collections older than ORPHAN_PLAN_MS (and unmarked ones from before markers),
 * never its own nor another plan still young. The naive sweep (drop every other plan) would take
 * a concurrent plan's jobs: the young plan here must survive.
 */
let db: Db;
const names = async () => (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith('score_jobs.')).sort();

useFileDb(import.meta.url, (d) => { db = d; });

describe('orphaned scoring-job collections', () => {
  it('when a plan starts, then orphans older than the limit and unmarked ones go; its own and young plans stay', async () => {
    const now = Date.now();
    await startScoreJobs(db, 'orphan', new Date(now - ORPHAN_PLAN_MS - 60_000));
    await writeScoreJob(db, 'orphan', 0, new Uint8Array([1, 2, 3]));
    await writeScoreJob(db, 'unmarked', 0, new Uint8Array([4]));
    await startScoreJobs(db, 'young', new Date(now - ORPHAN_PLAN_MS + 60_000));
    await writeScoreJob(db, 'young', 0, new Uint8Array([5]));
    await startScoreJobs(db, 'mine', new Date(now - 10 * ORPHAN_PLAN_MS));
    expect(await names()).toEqual(['score_jobs.mine', 'score_jobs.orphan', 'score_jobs.unmarked', 'score_jobs.young']);

    expect((await sweepScoreJobs(db, { keep: 'mine', now })).sort()).toEqual(['orphan', 'unmarked']);
    expect(await names()).toEqual(['score_jobs.mine', 'score_jobs.young']);
    expect([...(await readScoreJob(db, 'young', 0))!]).toEqual([5]);
    // The marker is no job: job 0 of a marked plan with no jobs reads as missing.
    expect(await readScoreJob(db, 'mine', 0)).toBeNull();
  });
});
