import express, { type Express } from 'express';
import { fileURLToPath } from 'node:url';
import type { Db } from 'mongodb';
import type { Config } from '../config';
import type { ModelHolder } from './model-holder';
import type { PredictionLog } from '../store/predictions';
import { errorHandler, notFound } from './errors';
import { predictRouter } from './routes/predict';
import { pagesRouter } from './routes/pages';
import { healthRouter } from './routes/health';

export interface AppDeps {
  db: Db;
  config: Config;
  models: ModelHolder;
  predictionLog?: PredictionLog;
  /** Base URL of the Temporal Web UI, for links from pages; null when unknown. */
  temporalUiUrl: string | null;
}

/** Builds the Express app without listening (tests drive it over a real socket). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('view engine', 'ejs');
  app.set('views', fileURLToPath(new URL('../views', import.meta.url)));
  app.use(express.json({ limit: '1mb' }));
  app.use(healthRouter(deps));
  app.use(predictRouter(deps));
  app.use(pagesRouter(deps));
  app.use(notFound);
  app.use(errorHandler());
  return app;
}
