import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config';
import { WORKFLOW_TYPES, monitorWorkflowId } from '../common/constants';
import { POLICY_FIELDS, type MonitorPolicy, type PolicyKey } from '../common/monitor-policy';
import { trainingSettings } from '../config';

/** The policy the environment sets: each field of common/monitor-policy.ts from its MONITOR_* variable. */
export function policyFromConfig(config: Config): MonitorPolicy {
  return { ...(Object.fromEntries(POLICY_FIELDS.map((f) => [f.key, config[f.env]])) as Record<PolicyKey, number>), paused: false };
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
