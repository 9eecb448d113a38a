import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../config';
import { connectStore, type Store } from '../../store/db';
import { ensureIndexes } from '../../store/collections';
import { createWorker, workflowBundle } from '../../worker/worker';
import { NO_AUTO_SCORING, testEnv, testStack, uniqueDbName } from './stack';
import type { WorkerMetrics } from '../../obs/metrics';

export const SAMPLE_CSV = fileURLToPath(new URL('../../sample/users.csv', import.meta.url));
export const DRIFT_CSV = fileURLToPath(new URL('../../sample/drift.csv', import.meta.url));
/** Oracle ROC AUC of the bundled sample, from sample/README.md (AUC of the true probabilities). */
export const SAMPLE_ORACLE_AUC = 0.8722;
/** sample/users.csv: 10,000 users cut at the last first_open, 354 inside their window (292 without a purchase yet; sample/README.md). */
export const SAMPLE_USERS = 10_000;
export const SAMPLE_PENDING = 354;

export interface PipelineHarness {
  config: Config;
  env: NodeJS.ProcessEnv;
  store: Store;
  client: Client;
  worker: Worker;
  close(): Promise<void>;
}

/**
 * A real worker on a private task queue and a private database, against the test stack.
 * Small grid by default so a pipeline run takes seconds on 2 cores; no scoring run per ingest
 * or promotion unless `SCORE_ON_INGEST` / `SCORE_ON_PROMOTION: 'true'` are passed.
 */
export async function startPipelineHarness(label: string, overrides: NodeJS.ProcessEnv = {}, opts: { metrics?: WorkerMetrics } = {}): Promise<PipelineHarness> {
  const env = testEnv(uniqueDbName(label), {
    TASK_QUEUE: `q-${randomBytes(4).toString('hex')}`,
    PARAM_GRID: '{"nEstimators":[20,40],"maxDepth":[4,8]}',
    ...NO_AUTO_SCORING,
    ...overrides,
  });
  const config = loadConfig(env);
  const store = await connectStore(config.MONGODB_URI!, config.MONGODB_DB);
  await ensureIndexes(store.db);
  const connection = await NativeConnection.connect({ address: testStack().temporalAddress });
  const clientConnection = await Connection.connect({ address: testStack().temporalAddress });
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  const worker = await createWorker({ connection, db: store.db, config, temporal: client, workflowBundle: await workflowBundle(), identity: `test-worker-${process.pid}`, metrics: opts.metrics });
  const running = worker.run();
  return {
    config,
    env,
    store,
    client,
    worker,
    async close() {
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
      await clientConnection.close();
      await store.db.dropDatabase().catch(() => undefined);
      await store.close();
    },
  };
}
