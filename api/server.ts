import { createServer, type Server } from 'node:http';
import { loadConfig, type Config } from '../config';
import { connectStore, type Store } from '../store/db';
import { ensureIndexes } from '../store/collections';
import { PredictionLog } from '../store/predictions';
import { createApp } from './app';
import { withFastPredict } from './fast-predict';
import { Metrics } from './metrics';
import { ModelHolder } from './model-holder';
import { connectClient } from '../client/connection';
import type { Client } from '@temporalio/client';
import { createLogger, type Logger } from '../obs/logger';

export interface RunningApi {
  server: Server;
  url: string;
  models: ModelHolder;
  predictionLog: PredictionLog;
  close(): Promise<void>;
}

/**
 * Starts the API: connects MongoDB (required) and Temporal (optional: without it /v1/retrain and
 * the monitor panel report unavailable and /readyz fails), loads the production model, listens.
 * @param opts.temporal false = do not connect to Temporal. @default true
 * @param opts.logger the request/error log. @default one built from LOG_LEVEL / LOG_FORMAT
 */
export async function startApi(config: Config, opts: { temporalUiUrl?: string | null; log?: (m: string) => void; temporal?: boolean; logger?: Logger } = {}): Promise<RunningApi> {
  const logger = opts.logger ?? createLogger(config, 'api');
  const log = opts.log ?? ((m: string) => logger.info(m));
  let temporal: Client | null = null;
  if (opts.temporal !== false) {
    try {
      temporal = await connectClient(config, 5000);
    } catch (err) {
      log(`api: ${(err as Error).message}; serving without Temporal (retrain and monitor state unavailable)`);
    }
  }
  const store: Store = await connectStore(config.MONGODB_URI ?? 'mongodb://127.0.0.1:27017', config.MONGODB_DB);
  await ensureIndexes(store.db);
  const models = new ModelHolder(store.db, config.MODEL_NAME, config.MODEL_POLL_MS, log);
  await models.refresh();
  models.start();
  const predictionLog = new PredictionLog(store.db, { onError: (err, lost) => logger.error({ err, lost }, 'prediction log: insert failed, records dropped') });
  predictionLog.start();
  const deps = { db: store.db, config, models, predictionLog, temporal, temporalUiUrl: opts.temporalUiUrl ?? config.TEMPORAL_UI_URL ?? null, log: logger, metrics: new Metrics() };
  // POST /v1/predict answered before Express (api/fast-predict.ts), everything else by the app
  const listener = withFastPredict(createApp(deps), deps);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = createServer(listener).listen(config.PORT, config.HOST, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new Error(`port ${config.PORT} on ${config.HOST} is already in use: stop the other process or set PORT`) : err));
  });
  const addr = server.address();
  const url = `http://${config.HOST}:${typeof addr === 'object' && addr ? addr.port : config.PORT}`;
  return {
    server,
    url,
    models,
    predictionLog,
    async close() {
      models.stop();
      await new Promise<void>((r) => server.close(() => r()));
      await predictionLog.stop();
      await store.close();
      await temporal?.connection.close().catch(() => undefined);
    },
  };
}

/** `retail24 api`: serves until SIGINT/SIGTERM. */
export async function runApiMain(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const api = await startApi(loadConfig(env));
  console.log(`retail24 api: listening on ${api.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await api.close();
}
