import { MockActivityEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { Binary } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipelineHarness, SAMPLE_CSV, SAMPLE_PENDING, SAMPLE_USERS, type PipelineHarness } from '../helpers/pipeline';
import { registerFixtureModel } from '../../testkit/model-fixture';
import { ingestViaWorkflow } from '../../client/pipeline';
import { ensureScoreSchedule, scoreNow } from '../../client/scoring';
import { createScoringActivities } from '../../activities/scoring';
import { countScores, type ScoreDoc } from '../../store/scores';
import { saveAudience } from '../../store/audiences';
import { docToRecord, type UserDoc } from '../../store/users';
import { loadVersion } from '../../store/model-loader';
import { latestObservation } from '../../store/batches';
import { BUCKETS, COLLECTIONS } from '../../store/collections';
import { FAILURE_TYPES } from '../../common/errors';
import { WorkerMetrics, processRegistry, serveMetrics } from '../../obs/metrics';
import { transform } from '../../data/features';
import { LABEL_WINDOW_MS } from '../../data/record';
import { scoreScheduleId, scoreWorkflowId } from '../../common/constants';
import type { ScoreSummary, ScoringPlan } from '../../common/workflow-types';

/**
 * scoreNewUsers through the real worker, Temporal dev server and MongoDB-protocol server: every
 * ingested user scored once by the production version (after the ingest, by itself), nothing
 * re-written on a repeat or a retried job, only open-window users re-scored when production
 * moves, and the Temporal Schedule in place with overlap SKIP.
 */
let h: PipelineHarness;
const metrics = new WorkerMetrics(processRegistry({ service: 'worker' }));
const scores = () => h.store.db.collection<ScoreDoc>(COLLECTIONS.scores);

beforeAll(async () => {
  // the harness's model name is this file's own (test/helpers/stack.ts): the scoring workflow and
  // schedule ids are per model
  h = await startPipelineHarness(import.meta.url, { SCORE_INTERVAL_S: '3600', SCORE_ON_INGEST: 'true', SCORE_ON_PROMOTION: 'true' }, { metrics });
  await registerFixtureModel(h.store.db, { modelName: h.config.MODEL_NAME, nEstimators: 10, maxDepth: 6 });
}, 180_000);

afterAll(async () => {
  await h?.client.schedule.getHandle(scoreScheduleId(h.config.MODEL_NAME)).delete().catch(() => undefined);
  await h?.close();
});

describe('scoring every new user', () => {
  it('an ingest starts scoring by itself and every user gets one score by production, equal to the served probability', async () => {
    const ingest = await ingestViaWorkflow(h.client, h.store.db, h.config, SAMPLE_CSV);
    expect(ingest.inserted).toBe(SAMPLE_USERS);
    const summary = (await h.client.workflow.getHandle(scoreWorkflowId(h.config.MODEL_NAME)).result()) as ScoreSummary;
    expect(summary.version).toBe(1);
    expect(summary.written).toBe(SAMPLE_USERS);
    expect(await countScores(h.store.db, h.config.MODEL_NAME, 1)).toBe(SAMPLE_USERS);
    // spot check: the stored probability is what the loaded model gives the stored user
    const m = (await loadVersion(h.store.db, h.config.MODEL_NAME, 1))!;
    const docs = await h.store.db.collection<UserDoc>(COLLECTIONS.users).find({}).limit(50).toArray();
    for (const d of docs) {
      const s = (await scores().findOne({ modelName: h.config.MODEL_NAME, version: 1, userId: d._id }))!;
      expect(s.probability).toBe(m.model.predictProbaRow(transform(m.spec, docToRecord(d))));
      expect(s.windowClosesAt).toBe(d.firstOpen + LABEL_WINDOW_MS);
      expect(s.decision).toBe(s.probability >= m.threshold);
    }
  });

  it('the worker\'s metrics endpoint counts the scores it wrote and times each activity type', async () => {
    const { server, url } = await serveMetrics(metrics.register, '127.0.0.1', 0);
    try {
      const text = await (await fetch(url)).text();
      const written = await countScores(h.store.db, h.config.MODEL_NAME, 1);
      expect(written).toBe(SAMPLE_USERS);
      expect(text).toContain(`retail24_scored_users_total{service="worker"} ${written}`);
      expect(text).toMatch(/retail24_activity_duration_seconds_count\{[^}]*activity="scoreJob"[^}]*outcome="completed"[^}]*\} [1-9]/);
      expect(text).toMatch(/retail24_activity_duration_seconds_count\{[^}]*activity="planScoring"/);
      expect(text).toContain('nodejs_eventloop_lag_seconds');
      expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it('a second run writes nothing, and a retried job skips every score its first attempt wrote', async () => {
    const again = await scoreNow(h.client, h.config, 'test repeat');
    expect(again).toMatchObject({ version: 1, written: 0, users: 0 });
    // a job run twice (a retry after a crash): the second attempt re-writes nothing
    const three = (await scores().find({ modelName: h.config.MODEL_NAME, version: 1 }).limit(3).toArray()).map((d) => d.userId);
    await scores().deleteMany({ userId: { $in: three } });
    const acts = createScoringActivities({ db: h.store.db, config: h.config, workerIdentity: 'test' });
    const env = new MockActivityEnvironment();
    const plan: ScoringPlan = await env.run(acts.planScoring, { modelName: h.config.MODEL_NAME });
    expect(plan.users).toBe(3);
    const first = await env.run(acts.scoreJob, { modelName: h.config.MODEL_NAME, version: 1, planId: plan.planId!, job: 0, cutoffs: {} });
    const second = await env.run(acts.scoreJob, { modelName: h.config.MODEL_NAME, version: 1, planId: plan.planId!, job: 0, cutoffs: {} });
    await env.run(acts.finishScoring, { planId: plan.planId! });
    expect(first).toEqual({ written: 3, skipped: 0, missing: false });
    expect(second).toEqual({ written: 0, skipped: 3, missing: false });
    expect(await countScores(h.store.db, h.config.MODEL_NAME, 1)).toBe(SAMPLE_USERS);
  });

  it('when production moves, only users whose window is still open at data time are re-scored, with each saved audience decided', async () => {
    await saveAudience(h.store.db, { name: 'top10', modelName: h.config.MODEL_NAME, rule: { kind: 'top_percent', percent: 10 }, by: 'test' });
    await registerFixtureModel(h.store.db, { modelName: h.config.MODEL_NAME, nEstimators: 10, maxDepth: 4, seed: 7 });
    const s = await scoreNow(h.client, h.config, 'test promotion');
    const asOf = (await latestObservation(h.store.db))!;
    const open = await h.store.db.collection<UserDoc>(COLLECTIONS.users).countDocuments({ maturesAt: { $gt: asOf } });
    // sample/README.md: 354 users are inside their window at the sample's cut
    expect(open).toBe(SAMPLE_PENDING);
    expect(s).toMatchObject({ version: 2, written: SAMPLE_PENDING, reScored: SAMPLE_PENDING });
    const v2 = await scores().find({ modelName: h.config.MODEL_NAME, version: 2 }).toArray();
    expect(v2.every((d) => d.windowClosesAt > asOf)).toBe(true);
    // the cut-off of "top 10 %" came from v2's holdout (no v2 scores before the run): about 10 % of
    // a population like the holdout; these are open-window users only, so just check both values occur
    expect(v2.every((d) => typeof d.audiences.top10 === 'boolean')).toBe(true);
    expect(v2.some((d) => d.audiences.top10) && v2.some((d) => !d.audiences.top10)).toBe(true);
  });

  it('the schedule exists with the configured interval and overlap SKIP, and a triggered run completes', async () => {
    const first = await ensureScoreSchedule(h.client, h.config);
    const second = await ensureScoreSchedule(h.client, h.config);
    expect(second).toEqual({ scheduleId: first.scheduleId, created: false });
    const handle = h.client.schedule.getHandle(first.scheduleId);
    const d = await handle.describe();
    expect(d.spec.intervals?.[0]?.every).toBe(3_600_000);
    expect(d.policies.overlap).toBe('SKIP');
    await handle.trigger();
    let workflowId: string | undefined;
    await expect.poll(async () => {
      const a = (await handle.describe()).info.recentActions[0]?.action;
      workflowId = a?.type === 'startWorkflow' ? a.workflow.workflowId : undefined;
      return workflowId;
    }, { timeout: 30_000, interval: 250 }).toBeDefined();
    const r = (await h.client.workflow.getHandle(workflowId!).result()) as ScoreSummary;
    expect(r).toMatchObject({ version: 2, written: 0, reason: 'schedule' });
  });

  it('when the production model\'s blob is corrupt, scoring fails on the first attempt with CorruptArtifact naming the blob (no retries)', async () => {
    // naive: the checksum error is an ordinary Error, and the plan retries 10 times reading the same bytes
    const v3 = await registerFixtureModel(h.store.db, { modelName: h.config.MODEL_NAME, nEstimators: 10, maxDepth: 4, seed: 11 });
    const chunks = h.store.db.collection<{ files_id: string; n: number; data: Binary }>(`${BUCKETS.models}.chunks`);
    const chunk = (await chunks.findOne({ files_id: v3.blob.id, n: 0 }))!;
    const bytes = Buffer.from(chunk.data.buffer);
    bytes[bytes.length - 1] ^= 0xff;
    await chunks.updateOne({ files_id: v3.blob.id, n: 0 }, { $set: { data: new Binary(bytes) } });
    const err = await scoreNow(h.client, h.config, 'corrupt model').then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activity = (err as WorkflowFailedError).cause as ActivityFailure;
    expect(activity).toBeInstanceOf(ActivityFailure);
    expect(activity.retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
    const app = activity.cause as ApplicationFailure;
    expect(app.type).toBe(FAILURE_TYPES.corruptArtifact);
    expect(app.message).toContain(v3.blob.id);
  });
});
