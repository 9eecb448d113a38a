import { Runtime } from '@temporalio/worker';
import { loadConfig } from '../config';
import { createLogger, temporalLogger } from '../obs/logger';
import { WorkerMetrics, processRegistry, serveMetrics } from '../obs/metrics';
import type { Server } from 'node:http';
import { connectStore } from '../store/db';
import { ensureIndexes } from '../store/collections';
import { createWorker } from './worker';
import { connectClient } from '../client/connection';
import { connectWorkerTemporal } from './connect';

/** `retail24 worker`: runs until SIGINT/SIGTERM, then drains and closes connections. */
export async function runWorkerMain(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  const logger = createLogger(config, 'worker');
  // before any connection: the SDK, activity (`log` from @temporalio/activity) and workflow logs go through it
  Runtime.install({ logger: temporalLogger(logger) });
  const store = await connectStore(config.MONGODB_URI ?? 'mongodb://127.0.0.1:27017', config.MONGODB_DB);
  let connection: Awaited<ReturnType<typeof connectWorkerTemporal>> | undefined;
  let temporal: Awaited<ReturnType<typeof connectClient>> | undefined;
  let metricsServer: Server | undefined;
  try {
    await ensureIndexes(store.db);
    connection = await connectWorkerTemporal(config);
    // Activities that ask Temporal about other workflows (the monitor's run state) use a client.
    temporal = await connectClient(config);
    const metrics = new WorkerMetrics(processRegistry({ service: 'worker' }));
    const worker = await createWorker({ connection, db: store.db, config, temporal, metrics });
    if (config.WORKER_METRICS_PORT !== undefined) {
      // a port already taken (a second worker on this machine) costs the metrics, not the worker
      metricsServer = await serveMetrics(metrics.register, config.HOST, config.WORKER_METRICS_PORT).then(
        (m) => { logger.info({ url: m.url }, 'worker metrics'); return m.server; },
        (err: Error) => { logger.warn({ err: err.message }, `worker metrics not served on port ${config.WORKER_METRICS_PORT}`); return undefined; },
      );
    }
    const stop = () => worker.shutdown();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    logger.info({ taskQueue: config.TASK_QUEUE, identity: worker.options.identity }, 'worker polling');
    console.log(`retail24 worker: polling task queue ${config.TASK_QUEUE} on ${config.TEMPORAL_ADDRESS ?? '127.0.0.1:7233'} as ${worker.options.identity}`);
    await worker.run();
  } finally {
    metricsServer?.close();
    await temporal?.connection.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
}
