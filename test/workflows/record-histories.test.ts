import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_CSV, startPipelineHarness, type PipelineHarness } from '../helpers/pipeline';
import { testStack } from '../helpers/stack';
import { ingestViaWorkflow, startTraining } from '../../client/pipeline';
import { policyFromConfig } from '../../client/monitor';
import { scoreNow } from '../../client/scoring';
import { trainingSettings } from '../../config';
import { WORKFLOW_TYPES, ingestWorkflowId, monitorWorkflowId, scoreWorkflowId } from '../../common/constants';
import { uploadFile } from '../../store/uploads';
import type { MonitorInput } from '../../workflows/model-monitor';

/**
 * Records one history of each workflow type from a real run into test/fixtures/histories/, for
 * the replay test (test/unit/workflows/replay.test.ts). Runs only with RETAIL24_RECORD_HISTORIES=1
 * (`npm run record-histories`): the committed histories are the point, and re-recording them on
 * every run would replay the code against itself.
 */
const OUT = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
const RECORD = process.env.RETAIL24_RECORD_HISTORIES === '1';
const TEMPORAL = fileURLToPath(new URL('../../.tools/venv/bin/temporal', import.meta.url));

/**
 * The history as the Temporal CLI prints it (`temporal workflow show --output json`, the JSON the
 * SDK's replayer reads). Not the SDK's `historyToJSON`: here it meets a history decoded by another
 * copy of protobufjs (@temporalio/common bundles its own) and refuses it ("type must be a Type").
 */
async function save(client: Client, name: string, workflowId: string, runId?: string) {
  const d = await client.workflow.getHandle(workflowId, runId).describe();
  const out = execFileSync(TEMPORAL, ['workflow', 'show', '--address', testStack().temporalAddress, '--namespace', testStack().temporalNamespace, '-w', workflowId, '-r', d.runId, '--output', 'json'], { maxBuffer: 256 * 2 ** 20 }).toString();
  const history = JSON.parse(out) as { events: unknown[] };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}${name}.json`, `${JSON.stringify({ workflowId, history })}\n`);
  return history.events.length;
}

describe.skipIf(!RECORD)('record workflow histories (RETAIL24_RECORD_HISTORIES=1)', () => {
  let h: PipelineHarness;
  beforeAll(async () => {
    h = await startPipelineHarness(import.meta.url, { SCORE_ON_INGEST: 'true', SCORE_ON_PROMOTION: 'true' });
  }, 180_000);
  afterAll(async () => h?.close());

  it('ingestFile, trainingPipeline, scoreNewUsers and a modelMonitor run that continues as new', async () => {
    const summary = await ingestViaWorkflow(h.client, h.store.db, h.config, SAMPLE_CSV);
    expect(summary.inserted).toBeGreaterThan(0);
    // the id ingestViaWorkflow gave it: database, upload (the file's sha256), no mapping or as-of tag
    const ingestId = ingestWorkflowId(h.config.MONGODB_DB, (await uploadFile(h.store.db, SAMPLE_CSV)).uploadId, '');
    expect(await save(h.client, 'ingest-file', ingestId)).toBeGreaterThan(5);

    const training = await startTraining(h.client, h.config, 'manual', 'recorded for the replay test');
    await training.result();
    expect(await save(h.client, 'training-pipeline', training.workflowId)).toBeGreaterThan(20);

    await scoreNow(h.client, h.config, 'recorded for the replay test');
    expect(await save(h.client, 'score-new-users', scoreWorkflowId(h.config.MODEL_NAME))).toBeGreaterThan(5);

    const input: MonitorInput = { modelName: h.config.MODEL_NAME, policy: { ...policyFromConfig(h.config), intervalSeconds: 1 }, settings: trainingSettings(h.config), checksPerRun: 2 };
    const monitor = await h.client.workflow.start(WORKFLOW_TYPES.monitor, { taskQueue: h.config.TASK_QUEUE, workflowId: monitorWorkflowId(h.config.MODEL_NAME), args: [input] });
    const first = h.client.workflow.getHandle(monitor.workflowId, monitor.firstExecutionRunId);
    await expect.poll(async () => (await first.describe()).status.name, { timeout: 120_000, interval: 1000 }).toBe('CONTINUED_AS_NEW');
    expect(await save(h.client, 'model-monitor-continue-as-new', monitor.workflowId, monitor.firstExecutionRunId)).toBeGreaterThan(10);
    await h.client.workflow.getHandle(monitor.workflowId).terminate('recorded');
  }, 600_000);
});
