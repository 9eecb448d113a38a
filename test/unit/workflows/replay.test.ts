import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../../worker/worker';

/**
 * Replays the histories recorded from real runs (test/fixtures/histories/, `npm run
 * record-histories`) against today's workflow code: a change that would break running workflows
 * (a new activity, a reordered command, a removed timer) fails here before it reaches a server.
 * A deliberate change goes behind `patched()` (docs/architecture.md "Changing workflow code").
 */
const DIR = fileURLToPath(new URL('../../fixtures/histories/', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const load = (f: string) => JSON.parse(readFileSync(`${DIR}${f}`, 'utf8')) as { workflowId: string; history: { events: Record<string, unknown>[] } };

describe('workflow histories replay against the current code', () => {
  it('a history of each workflow type is committed, the monitor one ending in continueAsNew', () => {
    for (const type of ['ingest-file', 'model-monitor-continue-as-new', 'score-new-users', 'training-pipeline']) expect(files).toContain(`${type}.json`);
    const events = load('model-monitor-continue-as-new.json').history.events;
    expect(events.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  });

  it('every recorded history replays without a determinism error', async () => {
    const histories = files.map((f) => { const h = load(f); return { workflowId: h.workflowId, history: historyFromJSON(h.history) }; });
    const results = [];
    for await (const r of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories)) results.push(r);
    expect(results.map((r) => [r.workflowId, r.error?.message ?? null])).toEqual(histories.map((h) => [h.workflowId, null]));
  }, 120_000);

  it('the replay catches a change: the same history with one activity renamed is a determinism violation', async () => {
    // what the check is for: code that schedules a different activity than the history recorded
    const h = load('training-pipeline.json');
    const scheduled = h.history.events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED') as { activityTaskScheduledEventAttributes: { activityType: { name: string } } };
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'anActivityTheCodeNeverCalls';
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, historyFromJSON(h.history), h.workflowId)).rejects.toBeInstanceOf(DeterminismViolationError);
  }, 120_000);
});
