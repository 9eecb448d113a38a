import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipelineHarness, type PipelineHarness } from '../helpers/pipeline';
import { createRunActivities } from '../../activities/runs';
import { WORKFLOW_TYPES, monitorWorkflowId } from '../../common/constants';
import { policyFromConfig } from '../../client/monitor';
import { trainingSettings } from '../../config';

/**
 * The monitor's run-state activity asks Temporal, not the run document: a run terminated from
 * the UI never writes `failed` into its document, and after continueAsNew the monitor has no
 * child handle to learn it from (the first round's monitor stayed "retraining" forever).
 */
let h: PipelineHarness;
beforeAll(async () => {
  h = await startPipelineHarness(import.meta.url, { MONITOR_INTERVAL_S: '3600' });
}, 120_000);
afterAll(async () => h?.close());

describe('runState', () => {
  it('when a workflow is terminated from the client, then runState reports failed from Temporal; a running one reports running', async () => {
    const { runState } = createRunActivities({ db: h.store.db, config: h.config, workerIdentity: 't', temporal: h.client });
    const id = `${monitorWorkflowId(h.config.MODEL_NAME)}-runstate`;
    const handle = await h.client.workflow.start(WORKFLOW_TYPES.monitor, {
      taskQueue: h.config.TASK_QUEUE, workflowId: id,
      args: [{ modelName: h.config.MODEL_NAME, policy: { ...policyFromConfig(h.config), paused: true }, settings: trainingSettings(h.config) }],
    });
    expect(await runState({ runId: id })).toMatchObject({ state: 'running' });
    await handle.terminate('test');
    expect(await runState({ runId: id })).toEqual({ state: 'failed', detail: 'Temporal reports TERMINATED' });
    expect((await runState({ runId: 'no-such-run' })).state).toBe('unknown');
  });
});
