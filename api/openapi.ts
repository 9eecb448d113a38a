import type { Config } from '../config';

const error = { $ref: '#/components/responses/Error' };
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const bearer = [{ bearer: [] }];
const authErrors = { 401: error, 403: error, 415: error, 503: error };

const rawUser = {
  type: 'object',
  additionalProperties: false,
  required: ['user_id', 'first_open', 'screen_list'],
  properties: {
    user_id: { oneOf: [{ type: 'string', minLength: 1, maxLength: 128 }, { type: 'integer', minimum: 0 }], description: 'unique user id' },
    first_open: { oneOf: [{ type: 'string', example: '2026-03-01 20:15:00' }, { type: 'number' }], description: 'ISO 8601 or YYYY-MM-DD HH:MM:SS, or epoch ms. A timestamp without an offset is wall time in the production model’s zone (its feature spec timezone, taken from the ingest mapping), the same way ingest read the training data; an explicit Z or offset wins.' },
    screen_list: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'comma-separated screen names, may be empty' },
    age: { oneOf: [{ type: 'integer', minimum: 0, maximum: 120 }, { type: 'null' }] },
    numscreens: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
    purchase_date: { oneOf: [{ type: 'string' }, { type: 'null' }], description: 'ignored for scoring' },
  },
};

const prediction = {
  type: 'object',
  required: ['user_id', 'probability', 'decision', 'percentile'],
  properties: {
    user_id: { type: 'string' },
    probability: { type: 'number', minimum: 0, maximum: 1, description: 'calibrated probability of a purchase within 24 h of first_open (isotonic or Platt, fitted on out-of-fold predictions)' },
    decision: { type: 'boolean', description: 'probability >= the threshold chosen for the target recall' },
    percentile: { type: 'number', minimum: 0, maximum: 100, nullable: true, description: "share (%) of the holdout's calibrated scores at or below this one; null for models registered without a score distribution" },
  },
};
const modelRef = { type: 'object', properties: { name: { type: 'string' }, version: { type: 'integer' }, threshold: { type: 'number' } } };
const outcome = {
  type: 'object', additionalProperties: false, required: ['user_id', 'purchase_date'],
  properties: {
    user_id: { oneOf: [{ type: 'string', minLength: 1, maxLength: 128 }, { type: 'integer', minimum: 0 }] },
    purchase_date: { oneOf: [{ type: 'string', example: '2026-03-01T21:00:00Z' }, { type: 'number' }] },
  },
};
const rule = {
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['kind', 'percent'], properties: { kind: { enum: ['top_percent'] }, percent: { type: 'number', exclusiveMinimum: true, minimum: 0, maximum: 100 } } },
    { type: 'object', additionalProperties: false, required: ['kind', 'n'], properties: { kind: { enum: ['top_n'] }, n: { type: 'integer', minimum: 1 } } },
    { type: 'object', additionalProperties: false, required: ['kind', 'recall'], properties: { kind: { enum: ['target_recall'] }, recall: { type: 'number', exclusiveMinimum: true, minimum: 0, exclusiveMaximum: true, maximum: 1 } } },
    { type: 'object', additionalProperties: false, required: ['kind', 'precision'], properties: { kind: { enum: ['min_precision'] }, precision: { type: 'number', exclusiveMinimum: true, minimum: 0, exclusiveMaximum: true, maximum: 1 } } },
  ],
};
const expectedOutcome = {
  type: 'object', description: 'expectations from the calibrated probabilities of the scored population',
  properties: {
    size: { type: 'integer' }, share: { type: 'number', nullable: true }, expectedBuyers: { type: 'number' }, expectedNonBuyers: { type: 'number' },
    expectedRecall: { type: 'number', nullable: true }, expectedPrecision: { type: 'number', nullable: true }, lift: { type: 'number', nullable: true },
  },
};
const observedOutcome = {
  type: 'object', nullable: true, description: "the production version's holdout at the same share: observed buyers (users it never trained on)",
  properties: {
    size: { type: 'number' }, holdoutSize: { type: 'integer' }, observedBuyers: { type: 'number' }, observedPrecision: { type: 'number', nullable: true },
    precisionInterval: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2, nullable: true, description: 'Wilson 95 %' },
    observedRecall: { type: 'number', nullable: true }, lift: { type: 'number', nullable: true },
  },
};
const figures = {
  type: 'object', required: ['rule', 'label', 'version', 'population', 'expected', 'summary'],
  properties: { rule, label: { type: 'string' }, version: { type: 'integer' }, population: { type: 'integer' }, threshold: { type: 'number', nullable: true }, expected: expectedOutcome, observed: observedOutcome, summary: { type: 'string' } },
};
const savedStats = {
  type: 'object',
  properties: {
    name: { type: 'string' }, rule, label: { type: 'string' }, description: { type: 'string', nullable: true }, figures,
    today: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, members: { type: 'integer' } } },
    yesterday: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, members: { type: 'integer' }, matured: { type: 'integer' }, buyers: { type: 'integer' }, conversion: { type: 'number', nullable: true }, interval: { type: 'array', items: { type: 'number' }, nullable: true } } },
  },
};
const ruleQuery = [
  { name: 'top', in: 'query', schema: { type: 'string', example: '10%' }, description: '`10%` (top share) or `500` (top N); or give kind and its field' },
  { name: 'kind', in: 'query', schema: { enum: ['top_percent', 'top_n', 'target_recall', 'min_precision'] } },
  { name: 'percent', in: 'query', schema: { type: 'number' } }, { name: 'n', in: 'query', schema: { type: 'integer' } },
  { name: 'recall', in: 'query', schema: { type: 'number' } }, { name: 'precision', in: 'query', schema: { type: 'number' } },
];
const audienceName = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } };
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,80}$' } };

/** The OpenAPI 3.0 description of the API, served at /openapi.json; limits come from the config. */
export function openApiDocument(config: Config): object {
  return {
    openapi: '3.0.3',
    info: { title: 'retail24 scoring API', version: '1.0.0', description: 'Purchase-within-24h propensity scores from the model the production alias points at. Every error is JSON {error: {code, message, details?}}.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN' } },
      schemas: {
        Error: {
          type: 'object', required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
        },
      },
      responses: { Error: { description: 'error', ...json({ $ref: '#/components/schemas/Error' }) } },
    },
    paths: {
      '/v1/predict': {
        post: {
          summary: 'Score one user or an array of users',
          requestBody: { required: true, ...json({ oneOf: [rawUser, { type: 'array', minItems: 1, maxItems: config.PREDICT_MAX_BATCH, items: rawUser }] }) },
          responses: {
            200: { description: 'scores', ...json({ type: 'object', properties: { requestId: { type: 'string' }, model: modelRef, predictions: { type: 'array', items: prediction }, ...prediction.properties } }) },
            400: error, 413: error, 415: error, 503: error,
          },
        },
      },
      '/v1/predict/batch': {
        post: {
          summary: 'Score a CSV of raw users; returns CSV line,user_id,probability,decision,error',
          requestBody: {
            required: true,
            content: {
              'text/csv': { schema: { type: 'string' } },
              'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } },
            },
          },
          responses: { 200: { description: 'scored CSV', content: { 'text/csv': { schema: { type: 'string' } } } }, 400: error, 413: error, 415: error, 503: error },
        },
      },
      '/v1/outcomes': {
        post: {
          summary: 'Record real purchases (earliest per user wins)',
          security: bearer,
          requestBody: { required: true, ...json({ oneOf: [outcome, { type: 'array', minItems: 1, maxItems: config.PREDICT_MAX_BATCH, items: outcome }] }) },
          responses: { 202: { description: 'recorded', ...json({ type: 'object', properties: { received: { type: 'integer' }, written: { type: 'integer' } } }) }, 400: error, 413: error, ...authErrors },
        },
      },
      '/v1/models': {
        get: { summary: 'Registered models with their aliases', responses: { 200: { description: 'models', ...json({ type: 'object', properties: { models: { type: 'array', items: { type: 'object' } } } }) } } },
      },
      '/v1/models/{name}/versions': {
        get: {
          summary: 'Versions of a model with metrics, aliases and alias history',
          parameters: [nameParam],
          responses: { 200: { description: 'versions', ...json({ type: 'object' }) }, 400: error, 404: error },
        },
      },
      '/v1/models/{name}/aliases/{alias}': {
        post: {
          summary: 'Point an alias (e.g. production) at a version: promote or roll back',
          security: bearer,
          parameters: [nameParam, { name: 'alias', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,31}$' } }],
          requestBody: {
            required: true,
            ...json({
              type: 'object', additionalProperties: false, required: ['version', 'reason'],
              properties: {
                version: { type: 'integer', minimum: 1 }, reason: { type: 'string', minLength: 1, maxLength: 500 },
                expect: { type: 'integer', minimum: 1, nullable: true, description: 'compare-and-set: move only if the alias is still here' },
                by: { type: 'string', minLength: 1, maxLength: 100 },
              },
            }),
          },
          responses: { 200: { description: 'alias moved (or already there)', ...json({ type: 'object' }) }, 400: error, 404: error, 409: error, ...authErrors },
        },
      },
      '/v1/retrain': {
        post: {
          summary: "Ask the model's monitor workflow for a retrain",
          security: bearer,
          requestBody: { required: true, ...json({ type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: { type: 'string', minLength: 1, maxLength: 500 }, requestedBy: { type: 'string', minLength: 1, maxLength: 100 } } }) },
          responses: { 202: { description: 'signalled', ...json({ type: 'object' }) }, 400: error, ...authErrors },
        },
      },
      '/v1/audiences': {
        get: {
          summary: "Saved audiences with today's figures, today's members and yesterday's observed conversion (aggregates only: public)",
          responses: { 200: { description: 'audiences', ...json({ type: 'object', properties: { model: { type: 'object', nullable: true }, reason: { type: 'string' }, audiences: { type: 'array', items: savedStats } } }) } },
        },
        post: {
          summary: 'Save (create or replace) a named audience rule',
          security: bearer,
          requestBody: { required: true, ...json({ type: 'object', additionalProperties: false, required: ['name', 'rule'], properties: { name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }, rule, description: { type: 'string', maxLength: 500 } } }) },
          responses: { 200: { description: 'replaced', ...json({ type: 'object' }) }, 201: { description: 'created', ...json({ type: 'object' }) }, 400: error, ...authErrors },
        },
      },
      '/v1/audiences/preview': {
        get: {
          summary: 'Expected and holdout-observed figures of any rule or size over the scored population',
          parameters: [...ruleQuery, { name: 'charts', in: 'query', schema: { enum: ['true'] }, description: 'add histogram, gains by decile and reliability' }],
          responses: { 200: { description: 'figures', ...json(figures) }, 400: error, 409: error },
        },
      },
      '/v1/audiences/{name}': {
        get: { summary: "A saved audience's figures and conversion", parameters: [audienceName], responses: { 200: { description: 'audience', ...json(savedStats) }, 404: error, 409: error } },
        delete: { summary: 'Delete a saved audience', security: bearer, parameters: [audienceName], responses: { 204: { description: 'deleted' }, 404: error, ...authErrors } },
      },
      '/v1/audiences/{name}/users': {
        get: {
          summary: 'Stream the members (storage order, one pass, no server-side sort); name `_` takes the rule from the query',
          security: bearer,
          parameters: [audienceName, ...ruleQuery, { name: 'open', in: 'query', schema: { enum: ['true', 'false'] }, description: 'only users whose 24 h window is still open at data time' }, { name: 'format', in: 'query', schema: { enum: ['csv', 'jsonl'] } }],
          responses: {
            200: { description: 'members: user_id, probability, percentile, first_open, window_closes_at, window_open', content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } } },
            400: error, 404: error, 409: error, ...authErrors,
          },
        },
      },
      '/healthz': { get: { summary: 'Process is up', responses: { 200: { description: 'ok', ...json({ type: 'object' }) } } } },
      '/readyz': { get: { summary: 'MongoDB, Temporal and a model are available', responses: { 200: { description: 'ready', ...json({ type: 'object' }) }, 503: { description: 'not ready', ...json({ type: 'object' }) } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    },
  };
}
