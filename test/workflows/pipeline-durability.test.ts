import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NO_AUTO_SCORING, testEnv, testStack, uniqueDbName } from '../helpers/stack';
import { startWorkerProcess, type WorkerProcess } from '../../testkit/worker-process';
import { loadConfig, type Config } from '../../config';
import { connectStore, type Store } from '../../store/db';
import { COLLECTIONS } from '../../store/collections';
import { scoreWorkflowId } from '../../common/constants';
import { getRun } from '../../store/runs';
import { generateToFiles } from '../../data/generator';
import { ingestViaWorkflow, startTraining } from '../../client/pipeline';
import type { PipelineResult } from '../../common/workflow-types';

/** A grid big enough that the grid search lasts several seconds on 2 cores (time to kill a worker mid-way). */
const GRID = '{"nEstimators":[60,120],"maxDepth":[6,10]}';

interface Site {
  config: Config;
  env: NodeJS.ProcessEnv;
  store: Store;
  workers: WorkerProcess[];
}

async function site(label: string, extra: Record<string, string> = {}): Promise<Site> {
  const env = testEnv(uniqueDbName(label), { TASK_QUEUE: `q-${randomBytes(4).toString('hex')}`, PARAM_GRID: GRID, GRID_CONCURRENCY: '4', ...NO_AUTO_SCORING, ...extra });
  const config = loadConfig(env);
  return { config, env, store: await connectStore(config.MONGODB_URI!, config.MONGODB_DB), workers: [] };
}

describe('training pipeline durability and scale-out (worker processes on the real server)', () => {
  let dir: string;
  let csv: string;
  let client: Client;
  let two: Site;
  let crash: Site;
  let twoResult: PipelineResult;
  let crashResult: PipelineResult;
  let killedAfterCells = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'retail24-durable-'));
    csv = join(dir, 'users.csv');
    await generateToFiles({ users: 12_000, seed: 11, out: csv });
    const connection = await Connection.connect({ address: testStack().temporalAddress });
    client = new Client({ connection, namespace: testStack().temporalNamespace });

    // Run 1: two worker processes share the queue, uninterrupted; the refit is split into tree
    // shards (one per worker that ran grid cells; the row minimum lowered so 16,000 rows qualify).
    // One activity slot per worker: a busy worker does not poll, so the second shard cannot go to
    // the worker that took the first (with 2 slots either worker may take both, and one CI run did).
    two = await site('durable-two', { REFIT_SHARDS: '0', REFIT_SHARD_MIN_ROWS: '0', WORKER_ACTIVITY_SLOTS: '1' });
    two.workers.push(startWorkerProcess(two.env), startWorkerProcess(two.env));
    await Promise.all(two.workers.map((w) => w.ready));
    await ingestViaWorkflow(client, two.store.db, two.config, csv);
    twoResult = await (await startTraining(client, two.config, 'manual', 'scale-out')).result();

    // Run 2: one worker, SIGKILLed in the middle of the grid search, then a fresh worker.
    crash = await site('durable-crash');
    crash.workers.push(startWorkerProcess(crash.env));
    await crash.workers[0]!.ready;
    await ingestViaWorkflow(client, crash.store.db, crash.config, csv);
    const handle = await startTraining(client, crash.config, 'manual', 'crash');
    const cells = crash.store.db.collection(COLLECTIONS.cvCells);
    killedAfterCells = await vi.waitFor(async () => {
      const n = await cells.countDocuments({ runId: handle.workflowId });
      if (n < 2) throw new Error(`${n} cells stored, waiting for 2`);
      return n;
    }, { timeout: 120_000, interval: 100 });
    await crash.workers[0]!.kill('SIGKILL');
    const replacement = startWorkerProcess(crash.env);
    crash.workers.push(replacement);
    crashResult = await handle.result();
  }, 600_000);

  afterAll(async () => {
    for (const s of [two, crash]) {
      for (const w of s?.workers ?? []) await w.kill('SIGTERM');
      await s?.store.db.dropDatabase().catch(() => undefined);
      await s?.store.close();
    }
    await client?.connection.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when two worker processes poll the queue, then grid cells ran on both', async () => {
    const ids = await two.store.db.collection(COLLECTIONS.cvCells).distinct('workerIdentity', { runId: twoResult.runId });
    expect(ids.length).toBe(2);
  });

  it('when SCORE_ON_INGEST and SCORE_ON_PROMOTION are false, then neither the ingest nor the promotion started a scoring run', async () => {
    expect(twoResult.promotion.promoted).toBe(true);
    await expect(client.workflow.getHandle(scoreWorkflowId(two.config.MODEL_NAME)).describe()).rejects.toMatchObject({ name: 'WorkflowNotFoundError' });
  });

  it('when the refit of a run on two workers is sharded, then both workers grew a shard and together all the trees', async () => {
    const run = await getRun(two.store.db, twoResult.runId);
    const shards = (run?.refitShards ?? []) as { workerIdentity: string; from: number; to: number }[];
    expect(shards).toHaveLength(2);
    expect(new Set(shards.map((s) => s.workerIdentity)).size).toBe(2);
    expect(shards[0]!.from).toBe(0);
    expect(shards[1]!.from).toBe(shards[0]!.to);
    expect(shards[1]!.to).toBe(twoResult.selection.bestParams.nEstimators);
  });

  it('when the worker is killed mid grid search, then the run completes after a new worker starts', () => {
    expect(killedAfterCells).toBeGreaterThanOrEqual(2);
    expect(killedAfterCells).toBeLessThan(12);
    expect(crashResult.version.version).toBe(1);
  });

  it('when the crashed run completes, then its result equals the uninterrupted run with the same seed', () => {
    expect(crashResult.snapshot.datasetId).toBe(twoResult.snapshot.datasetId);
    expect(crashResult.selection.bestParams).toEqual(twoResult.selection.bestParams);
    expect(crashResult.selection.threshold).toEqual(twoResult.selection.threshold);
    expect(crashResult.version.metrics).toEqual(twoResult.version.metrics);
  });

  it('when one run merged tree shards and the other fitted in one piece, then their model blobs are byte-identical', async () => {
    const [a, b] = await Promise.all([getRun(two.store.db, twoResult.runId), getRun(crash.store.db, crashResult.runId)]);
    expect(a?.refitShards).toHaveLength(2);
    expect(b?.refitShards).toBeUndefined();
    expect((a?.refit as { blob: { sha256: string } }).blob.sha256).toBe((b?.refit as { blob: { sha256: string } }).blob.sha256);
  });

  it('when cells were retried after the crash, then each (params × fold) cell is stored exactly once', async () => {
    const docs = await crash.store.db.collection(COLLECTIONS.cvCells).find({ runId: crashResult.runId }).toArray();
    expect(docs).toHaveLength(12);
  });
});
