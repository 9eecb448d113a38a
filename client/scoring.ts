import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config';
import { WORKFLOW_TYPES, scoreScheduleId, scoreWorkflowId } from '../common/constants';
import type { ScoreRequest, ScoreSummary } from '../common/workflow-types';
import { rescanSignal } from '../common/messages';

function request(config: Config, reason: string): ScoreRequest {
  return { modelName: config.MODEL_NAME, reason, concurrency: config.SCORE_CONCURRENCY };
}

/**
 * The Temporal Schedule that runs scoreNewUsers every SCORE_INTERVAL_S (overlap SKIP: a run still
 * going when the next is due makes that one skip). Created once; an existing schedule gets the
 * configured interval, so a changed setting applies at the next `up` or worker start.
 */
export async function ensureScoreSchedule(client: Client, config: Config): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = scoreScheduleId(config.MODEL_NAME);
  const spec = { intervals: [{ every: `${config.SCORE_INTERVAL_S}s` }] };
  const action = { type: 'startWorkflow' as const, workflowType: WORKFLOW_TYPES.scoreNewUsers, workflowId: `score-schedule-${config.MODEL_NAME}`, taskQueue: config.TASK_QUEUE, args: [request(config, 'schedule')] };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' } });
    return { scheduleId, created: true };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action }));
    return { scheduleId, created: false };
  }
}

/**
 * Runs scoreNewUsers now and waits for it; when one is already running (after an ingest) it is
 * told to run one more pass and this waits for that run.
 */
export async function scoreNow(client: Client, config: Config, reason = 'manual'): Promise<ScoreSummary> {
  const workflowId = scoreWorkflowId(config.MODEL_NAME);
  try {
    return await client.workflow.execute(WORKFLOW_TYPES.scoreNewUsers, { taskQueue: config.TASK_QUEUE, workflowId, args: [request(config, reason)] });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const handle = client.workflow.getHandle(workflowId);
    await handle.signal(rescanSignal, reason);
    return (await handle.result()) as ScoreSummary;
  }
}
