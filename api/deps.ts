import type { Db } from 'mongodb';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { ModelHolder } from './model-holder';
import type { PredictionLog } from '../store/predictions';
import type { Metrics } from './metrics';
import type { Logger } from '../obs/logger';

/** What the app and every router are built from (routers import this, never app.ts: no cycle). */
export interface AppDeps {
  db: Db;
  config: Config;
  models: ModelHolder;
  predictionLog?: PredictionLog;
  /** Temporal client for /v1/retrain, /readyz and the monitor's state on the pages; absent = those report unavailable. */
  temporal?: Client | null;
  /** Request and prediction counters for /metrics. @default a new Metrics per app */
  metrics?: Metrics;
  /** Base URL of the Temporal Web UI, for links from pages; null when unknown. */
  temporalUiUrl: string | null;
  /** Request and error log; absent = requests are not logged (tests that build the app by hand). */
  log?: Logger;
}
