import express, { type Express } from 'express';
import { randomUUID } from 'node:crypto';
import { pinoHttp } from 'pino-http';
import { fileURLToPath } from 'node:url';
import { errorHandler, notFound } from './errors';
import { Metrics } from './metrics';
import type { AppDeps } from './deps';
import { openApiDocument } from './openapi';
import { predictRouter } from './routes/predict';
import { batchRouter } from './routes/batch';
import { modelsRouter } from './routes/models';
import { feedbackRouter } from './routes/feedback';
import { pagesRouter } from './routes/pages';
import { opsPagesRouter } from './routes/pages-ops';
import { audiencePagesRouter } from './routes/pages-audiences';
import { healthRouter } from './routes/health';
import { audiencesRouter } from './routes/audiences';

export type { AppDeps };

/** Largest JSON body: PREDICT_MAX_BATCH users of generous size fit; anything bigger is 413. */
const JSON_LIMIT = '2mb';

/** Builds the Express app without listening (tests drive it over a real socket). */
export function createApp(deps: AppDeps): Express {
  const full: AppDeps = { ...deps, metrics: deps.metrics ?? new Metrics() };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('view engine', 'ejs');
  app.set('views', fileURLToPath(new URL('../views', import.meta.url)));
  app.use(full.metrics!.middleware());
  if (full.log) {
    // one line per request with the id the response carries (X-Request-Id, and `requestId` in
    // /v1/predict bodies); a caller's own X-Request-Id is kept when it is a sane token
    app.use(pinoHttp({
      logger: full.log,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      serializers: { req: (r: { id: unknown; method: string; url: string }) => ({ id: r.id, method: r.method, url: r.url }), res: (r: { statusCode: number }) => ({ statusCode: r.statusCode }) },
    }));
  }
  app.use(express.json({ limit: JSON_LIMIT, strict: true }));
  app.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 }));
  // the hot route first: no route before it could match POST /v1/predict, so only the routers it
  // no longer walks through change
  app.use(predictRouter(full));
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
