import { ParentClosePolicy, WorkflowIdReusePolicy, getExternalWorkflowHandle, proxyActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { ScoreRequest, ScoreSummary } from '../common/workflow-types';
import { NON_RETRYABLE } from '../common/errors';
import { scoreWorkflowId } from '../common/constants';
import { rescanSignal, scoringProgressQuery } from '../common/messages';
import { runBounded } from './bounded';

const retry = { initialInterval: '1s', maximumInterval: '30s', backoffCoefficient: 2, maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE };
// The plan reads every user once (a million in about a minute on FerretDB); a job of 2,000 users
// takes seconds. Both heartbeat, so a dead worker's activity moves to another within 30 s.
const { planScoring, scoreJob } = proxyActivities<Activities>({ startToCloseTimeout: '60 minutes', heartbeatTimeout: '30 seconds', retry });
const { finishScoring } = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', retry });

/** Most plans one run makes before it asks to be started afresh (keeps the history short). */
const MAX_PASSES = 20;

/**
 * Scores every user the production version has not scored yet (issue 13 §1): plan (one read of
 * the users) → one activity per job of 2,000 users, `concurrency` in flight, so every worker on
 * the queue takes some → drop the plan. A `rescan` signal during a pass (an ingest or a
 * promotion that came in meanwhile) runs one more pass, so no arrival is left for the next tick.
 */
export async function scoreNewUsers(req: ScoreRequest): Promise<ScoreSummary> {
  const summary: ScoreSummary = { version: null, users: 0, written: 0, skipped: 0, reScored: 0, jobs: 0, reason: req.reason, passes: 0 };
  const progress = { ...summary, stage: 'planning' as 'planning' | 'scoring' | 'done', jobsDone: 0 };
  let rescan = false;
  setHandler(rescanSignal, () => {
    rescan = true;
  });
  setHandler(scoringProgressQuery, () => ({ ...progress, ...summary }));
  do {
    rescan = false;
    summary.passes++;
    progress.stage = 'planning';
    const plan = await planScoring({ modelName: req.modelName, planId: `${workflowInfo().runId.replace(/[^A-Za-z0-9]/g, '')}-${summary.passes}` });
    summary.version = plan.version;
    if (plan.planId !== null && plan.version !== null) {
      progress.stage = 'scoring';
      const jobs = Array.from({ length: plan.jobs }, (_, i) => i);
      const version = plan.version;
      const planId = plan.planId;
      await runBounded(jobs, req.concurrency ?? 4, async (job) => {
        const r = await scoreJob({ modelName: req.modelName, version, planId, job, cutoffs: plan.cutoffs ?? {} });
        summary.written += r.written;
        summary.skipped += r.skipped;
        progress.jobsDone++;
      });
      await finishScoring({ planId });
      summary.users += plan.users;
      summary.reScored += plan.reScored ?? 0;
      summary.jobs += plan.jobs;
    }
  } while (rescan && summary.passes < MAX_PASSES);
  progress.stage = 'done';
  return summary;
}

/**
 * Starts scoreNewUsers for a model from another workflow (after an ingest or a promotion),
 * detached from the caller; when one is already running it is told to run one more pass.
 */
export async function requestScoring(modelName: string, reason: string): Promise<void> {
  const workflowId = scoreWorkflowId(modelName);
  try {
    await startChild(scoreNewUsers, {
      workflowId, args: [{ modelName, reason }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    await getExternalWorkflowHandle(workflowId).signal(rescanSignal, reason);
  }
}
