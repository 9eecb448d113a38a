import express, { type Express } from 'express';
import { fileURLToPath } from 'node:url';
import { errorHandler, notFound } from './errors';
import { Metrics } from './metrics';
import { observeRequests } from './observe';
import type { AppDeps } from './deps';
import { openApiDocument } from './openapi';
import { predictHandler } from './routes/predict';
import { JSON_LIMIT_BYTES } from './fast-predict';
import { requireJson } from './validation';
import { batchRouter } from './routes/batch';
import { modelsRouter } from './routes/models';
import { feedbackRouter } from './routes/feedback';
import { pagesRouter } from './routes/pages';
import { opsPagesRouter } from './routes/pages-ops';
import { audiencePagesRouter } from './routes/pages-audiences';
import { healthRouter } from './routes/health';
import { audiencesRouter } from './routes/audiences';

export type { AppDeps };

/** Builds the Express app without listening (tests drive it over a real socket). */
export function createApp(deps: AppDeps): Express {
  const full: AppDeps = { ...deps, metrics: deps.metrics ?? new Metrics() };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('view engine', 'ejs');
  app.set('views', fileURLToPath(new URL('../views', import.meta.url)));
  // request id, access log line and metrics: one middleware, one listener per request
  app.use(observeRequests(full.metrics!, full.log));
  app.use(express.json({ limit: JSON_LIMIT_BYTES, strict: true }));
  // The hot route first (no route before it could match POST /v1/predict). The server answers the
  // plain JSON form of it before Express (api/fast-predict.ts); this route takes the other forms.
  app.post('/v1/predict', requireJson, predictHandler(full));
  // Built once per app: the document depends only on the config, and generating it walks every schema.
  const openapi = openApiDocument(full.config);
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use(healthRouter(full));
  app.use(batchRouter(full));
  app.use(modelsRouter(full));
  app.use(feedbackRouter(full));
  app.use(audiencesRouter(full));
  app.use(pagesRouter(full));
  app.use(opsPagesRouter(full));
  app.use(audiencePagesRouter(full));
  app.use(notFound);
  app.use(errorHandler(full.log ? (m) => full.log!.error(m) : undefined));
  return app;
}
