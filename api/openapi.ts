import { OpenAPIRegistry, OpenApiGeneratorV3, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { Config } from '../config';
import {
  ALIAS_NAME_PATTERN, MODEL_NAME_PATTERN, aliasBodySchema, aliasResponseSchema, audienceNameSchema, audienceRuleSchema, audiencesResponseSchema,
  errorSchema, figuresSchema, healthResponseSchema, modelsResponseSchema, outcomeSchema, outcomesResponseSchema, predictManyResponseSchema,
  predictOneResponseSchema, previewResponseSchema, rawUserSchema, readyResponseSchema, retrainBodySchema, retrainResponseSchema,
  savedAudienceSchema, savedResponseSchema, savedStatsSchema, versionsResponseSchema,
} from './schemas';

/**
 * The OpenAPI 3.0 description of the API, served at /openapi.json: generated from the zod schemas
 * that validate requests and describe responses (api/schemas.ts); limits come from the config.
 */
type Responses = RouteConfig['responses'];
const json = (schema: z.ZodTypeAny, description: string) => ({ description, content: { 'application/json': { schema } } });
const text = (type: string, description: string) => ({ description, content: { [type]: { schema: z.string() } } });
const error = (description: string) => json(errorSchema, description);
const errors = (...codes: number[]): Responses => Object.fromEntries(codes.map((c) => [c, error(ERROR_TEXT[c] ?? 'error')]));
const ERROR_TEXT: Record<number, string> = {
  400: 'invalid request (the body names the field and rule)', 401: 'no bearer token', 403: 'wrong token', 404: 'not found',
  409: 'conflict, or nothing scored yet', 413: 'too large', 415: 'wrong Content-Type', 503: 'no model or no Temporal connection',
};
const auth = [{ bearer: [] }];
const AUTH_ERRORS = [401, 403, 415, 503];

const ruleQuery = z.object({
  top: z.string().optional().openapi({ example: '10%', description: '`10%` (top share) or `500` (top N); or give kind and its field' }),
  kind: z.enum(['top_percent', 'top_n', 'target_recall', 'min_precision']).optional(),
  percent: z.string().optional(), n: z.string().optional(), recall: z.string().optional(), precision: z.string().optional(),
});
const modelName = z.object({ name: z.string().regex(MODEL_NAME_PATTERN) });
const audienceName = z.object({ name: audienceNameSchema });

export function openApiDocument(config: Config): object {
  const r = new OpenAPIRegistry();
  r.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'API_TOKEN' });
  const max = config.PREDICT_MAX_BATCH;
  r.registerPath({
    method: 'post', path: '/v1/predict', summary: 'Score one user or an array of users',
    request: {
      query: z.object({ explain: z.enum(['true', 'false', '1', '0']).optional().openapi({ description: `add each user's top feature contributions (TreeSHAP; at most ${config.EXPLAIN_MAX_BATCH} users)` }) }),
      body: { required: true, content: { 'application/json': { schema: z.union([rawUserSchema, z.array(rawUserSchema).min(1).max(max)]) } } },
    },
    responses: { 200: json(z.union([predictOneResponseSchema, predictManyResponseSchema]), 'scores'), ...errors(400, 413, 415, 503) },
  });
  r.registerPath({
    method: 'post', path: '/v1/predict/batch', summary: 'Score a CSV of raw users; returns CSV line,user_id,probability,decision,error',
    request: {
      body: {
        required: true,
        content: {
          'text/csv': { schema: z.string() },
          'multipart/form-data': { schema: z.object({ file: z.string().openapi({ format: 'binary' }) }) },
        },
      },
    },
    responses: { 200: text('text/csv', 'scored CSV'), ...errors(400, 413, 415, 503) },
  });
  r.registerPath({
    method: 'post', path: '/v1/outcomes', summary: 'Record real purchases (earliest per user wins)', security: auth,
    request: { body: { required: true, content: { 'application/json': { schema: z.union([outcomeSchema, z.array(outcomeSchema).min(1).max(max)]) } } } },
    responses: { 202: json(outcomesResponseSchema, 'recorded'), ...errors(400, 413, ...AUTH_ERRORS) },
  });
  r.registerPath({ method: 'get', path: '/v1/models', summary: 'Registered models with their aliases', responses: { 200: json(modelsResponseSchema, 'models') } });
  r.registerPath({
    method: 'get', path: '/v1/models/{name}/versions', summary: 'Versions of a model with metrics, aliases and alias history',
    request: { params: modelName }, responses: { 200: json(versionsResponseSchema, 'versions'), ...errors(400, 404) },
  });
  r.registerPath({
    method: 'post', path: '/v1/models/{name}/aliases/{alias}', summary: 'Point an alias (e.g. production) at a version: promote or roll back', security: auth,
    request: { params: modelName.extend({ alias: z.string().regex(ALIAS_NAME_PATTERN) }), body: { required: true, content: { 'application/json': { schema: aliasBodySchema } } } },
    responses: { 200: json(aliasResponseSchema, 'alias moved (or already there)'), ...errors(400, 404, 409, ...AUTH_ERRORS) },
  });
  r.registerPath({
    method: 'post', path: '/v1/retrain', summary: "Ask the model's monitor workflow for a retrain", security: auth,
    request: { body: { required: true, content: { 'application/json': { schema: retrainBodySchema } } } },
    responses: { 202: json(retrainResponseSchema, 'signalled'), ...errors(400, ...AUTH_ERRORS) },
  });
  r.registerPath({
    method: 'get', path: '/v1/audiences', summary: "Saved audiences with today's figures, today's members and yesterday's observed conversion (aggregates only: public)",
    responses: { 200: json(audiencesResponseSchema, 'audiences') },
  });
  r.registerPath({
    method: 'post', path: '/v1/audiences', summary: 'Save (create or replace) a named audience rule', security: auth,
    request: { body: { required: true, content: { 'application/json': { schema: savedAudienceSchema } } } },
    responses: { 200: json(savedResponseSchema, 'replaced'), 201: json(savedResponseSchema, 'created'), ...errors(400, ...AUTH_ERRORS) },
  });
  r.registerPath({
    method: 'get', path: '/v1/audiences/preview', summary: 'Expected and holdout-observed figures of any rule or size over the scored population',
    request: { query: ruleQuery.extend({ charts: z.enum(['true']).optional().openapi({ description: 'add histogram, gains by decile and reliability' }) }) },
    responses: { 200: json(previewResponseSchema, 'figures'), ...errors(400, 409) },
  });
  r.registerPath({
    method: 'get', path: '/v1/audiences/{name}', summary: "A saved audience's figures and conversion",
    request: { params: audienceName }, responses: { 200: json(savedStatsSchema, 'audience'), ...errors(404, 409) },
  });
  r.registerPath({
    method: 'delete', path: '/v1/audiences/{name}', summary: 'Delete a saved audience', security: auth,
    request: { params: audienceName }, responses: { 204: { description: 'deleted' }, ...errors(404, 401, 403, 503) },
  });
  r.registerPath({
    method: 'get', path: '/v1/audiences/{name}/users', security: auth,
    summary: 'Stream the members (storage order, one pass, no server-side sort); name `_` takes the rule from the query',
    request: {
      params: z.object({ name: z.union([audienceNameSchema, z.literal('_')]) }),
      query: ruleQuery.extend({
        open: z.enum(['true', 'false']).optional().openapi({ description: 'only users whose 24 h window is still open at data time' }),
        format: z.enum(['csv', 'jsonl']).optional(),
      }),
    },
    responses: {
      200: {
        description: 'members: user_id, probability, percentile, first_open, window_closes_at, window_open',
        content: { 'text/csv': { schema: z.string() }, 'application/x-ndjson': { schema: z.string() } },
      },
      ...errors(400, 404, 409, 401, 403, 503),
    },
  });
  r.registerPath({ method: 'get', path: '/healthz', summary: 'Process is up', responses: { 200: json(healthResponseSchema, 'ok') } });
  r.registerPath({
    method: 'get', path: '/readyz', summary: 'MongoDB, Temporal and a model are available',
    responses: { 200: json(readyResponseSchema, 'ready'), 503: json(readyResponseSchema, 'not ready') },
  });
  r.registerPath({ method: 'get', path: '/metrics', summary: 'Prometheus metrics', responses: { 200: text('text/plain', 'text exposition format') } });
  // Named for readers of the document even where a path embeds them.
  r.register('AudienceRule', audienceRuleSchema);
  r.register('AudienceFigures', figuresSchema);

  return new OpenApiGeneratorV3(r.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'retail24 scoring API', version: '1.0.0',
      description: 'Purchase-within-24h propensity scores from the model the production alias points at. Every error is JSON {error: {code, message, details?}}.',
    },
  });
}
