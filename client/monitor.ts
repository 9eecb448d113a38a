import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config';
import { WORKFLOW_TYPES, monitorWorkflowId } from '../common/constants';
import type { MonitorPolicy } from '../common/messages';
import { trainingSettings } from '../config';

export function policyFromConfig(config: Config): MonitorPolicy {
  return {
    intervalSeconds: config.MONITOR_INTERVAL_S,
    newDataRatio: config.MONITOR_NEW_DATA_RATIO,
    f1Drop: config.MONITOR_F1_DROP,
    minOutcomes: config.MONITOR_MIN_OUTCOMES,
    driftShare: config.MONITOR_DRIFT_SHARE,
    windowDays: config.MONITOR_WINDOW_DAYS,
    minDriftUsers: config.MONITOR_MIN_DRIFT_USERS,
    paused: false,
  };
}

/** Starts the model's monitor if it is not running (one per model: the id is the model name). */
export async function ensureMonitor(client: Client, config: Config): Promise<{ workflowId: string; started: boolean }> {
  const workflowId = monitorWorkflowId(config.MODEL_NAME);
  try {
    await client.workflow.start(WORKFLOW_TYPES.monitor, {
      taskQueue: config.TASK_QUEUE,
      workflowId,
      args: [{ modelName: config.MODEL_NAME, policy: policyFromConfig(config), settings: trainingSettings(config) }],
    });
    return { workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw err;
  }
}
