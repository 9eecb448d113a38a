/**
 * The API's schemas, one zod schema per request body and per response: the routes validate
 * requests with the request schemas, api/openapi.ts generates /openapi.json from all of them
 * (@asteasolutions/zod-to-openapi), and the API tests parse real responses with the response
 * schemas (strict objects: an undocumented field fails them). The raw user is validated by
 * data/validate.ts (it also reads CSV strings); its schema here is built from the same constants,
 * and test/unit/api/schemas.test.ts checks the two agree on every boundary.
 */
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { AGE_RANGE, MAX_USER_ID_LENGTH } from '../data/record';
import { parseTimestamp } from '../data/timestamp';
import { AUDIENCE_NAME_PATTERN, audienceRuleSchema, savedAudienceSchema } from '../common/audience';

extendZodWithOpenApi(z);

export const MODEL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,80}$/;
export const ALIAS_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

// ------------------------------------------------------------------ requests

const userIdMessage = `must be a non-empty string of at most ${MAX_USER_ID_LENGTH} chars or a non-negative integer`;
export const userIdSchema = z.union([
  z.string().trim().min(1, 'must not be empty').max(MAX_USER_ID_LENGTH, `at most ${MAX_USER_ID_LENGTH} characters`),
  z.number().int('must be an integer').nonnegative('must be >= 0').max(Number.MAX_SAFE_INTEGER).transform(String),
], { errorMap: () => ({ message: userIdMessage }) }).openapi({ description: 'unique user id' });

const timestampMessage = 'not an ISO 8601 or YYYY-MM-DD HH:MM:SS timestamp (UTC) or epoch milliseconds';
/** A purchase time: ISO 8601 / SQL style (UTC unless it names an offset) or epoch ms, as a Date. */
export const outcomeTimestampSchema = z.union([z.string().openapi({ example: '2026-03-01T21:00:00Z' }), z.number().finite()], { errorMap: () => ({ message: 'must be an ISO 8601 / YYYY-MM-DD HH:MM:SS timestamp (UTC) or epoch milliseconds' }) })
  .transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : parseTimestamp(v, 'UTC');
    if (ms === null || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: timestampMessage });
      return z.NEVER;
    }
    return new Date(ms);
  });

export const outcomeSchema = z.object({ user_id: userIdSchema, purchase_date: outcomeTimestampSchema }).strict().openapi('Outcome');

export const retrainBodySchema = z.object({
  reason: z.string({ required_error: 'is required', invalid_type_error: 'must be a string' }).trim().min(1, 'must not be empty').max(500, 'at most 500 characters'),
  requestedBy: z.string().trim().min(1).max(100).optional(),
}).strict().openapi('RetrainRequest');

export const aliasBodySchema = z.object({
  version: z.number({ invalid_type_error: 'must be an integer version number' }).int('must be an integer').min(1, 'must be >= 1').max(1_000_000_000, 'must be <= 1e9'),
  reason: z.string({ invalid_type_error: 'must be a string' }).trim().min(1, 'must not be empty').max(500, 'at most 500 characters'),
  /** Compare-and-set: only move if the alias still points at this version (null = unset). */
  expect: z.number().int().min(1).nullable().optional().openapi({ description: 'compare-and-set: move only if the alias is still here' }),
  by: z.string().trim().min(1).max(100).optional(),
}).strict().openapi('AliasRequest');

/**
 * One raw user as JSON (DATA.md), documenting what data/validate.ts accepts: the same id length,
 * age range and field kinds. Pass-through features the production model declares are extra
 * numeric fields.
 */
export const rawUserSchema = z.object({
  user_id: z.union([z.string().min(1).max(MAX_USER_ID_LENGTH).regex(/\S/, 'must not be blank'), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]).openapi({ description: 'unique user id' }),
  first_open: z.union([z.string().min(1).openapi({ example: '2026-03-01 20:15:00' }), z.number().finite()]).openapi({
    description: 'ISO 8601 or YYYY-MM-DD HH:MM:SS, or epoch ms. A timestamp without an offset is wall time in the production model’s zone (its feature spec timezone, taken from the ingest mapping), the same way ingest read the training data; an explicit Z or offset wins.',
  }),
  screen_list: z.union([z.string(), z.array(z.string())]).openapi({ description: 'comma-separated screen names, or an array of them; may be empty' }),
  age: z.number().int().min(AGE_RANGE.min).max(AGE_RANGE.max).nullable().optional(),
  numscreens: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  purchase_date: z.union([z.string(), z.number().finite()]).nullable().optional().openapi({ description: 'ignored for scoring' }),
}).catchall(z.number().finite().openapi({ description: "a pass-through feature the production model declares" })).openapi('RawUser');

export { audienceRuleSchema, savedAudienceSchema };
export const audienceNameSchema = z.string().regex(AUDIENCE_NAME_PATTERN);

// ------------------------------------------------------------------ responses

const n = z.number();
const nn = z.number().nullable();

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }).strict(),
}).strict().openapi('Error');

export const modelRefSchema = z.object({ name: z.string(), version: z.number().int(), threshold: n }).strict().openapi('ModelRef');

const explanationSchema = z.object({
  method: z.string(),
  expected_value: n.openapi({ description: "the forest's output with no feature known" }),
  raw_score: n.openapi({ description: 'the forest output before calibration; the probability is a monotone map of it' }),
  top: z.array(z.object({ feature: z.string(), value: n, contribution: n }).strict()),
}).strict().openapi('Explanation');

const predictionFields = {
  user_id: z.string(),
  probability: n.min(0).max(1).openapi({ description: 'calibrated probability of a purchase within 24 h of first_open (isotonic or Platt, fitted on out-of-fold predictions)' }),
  decision: z.boolean().openapi({ description: 'probability >= the threshold chosen for the target recall' }),
  percentile: n.min(0).max(100).nullable().openapi({ description: "share (%) of the holdout's calibrated scores at or below this one; null for models registered without a score distribution" }),
  explanation: explanationSchema.optional(),
};
export const predictionSchema = z.object(predictionFields).strict().openapi('Prediction');

export const predictOneResponseSchema = z.object({ requestId: z.string(), model: modelRefSchema, ...predictionFields }).strict().openapi('PredictOneResponse');
export const predictManyResponseSchema = z.object({ requestId: z.string(), model: modelRefSchema, predictions: z.array(predictionSchema) }).strict().openapi('PredictManyResponse');

export const outcomesResponseSchema = z.object({
  received: z.number().int(), written: z.number().int().openapi({ description: 'outcomes new or earlier than the one stored' }),
  resolved: z.number().int().openapi({ description: 'pending users whose label this report settled' }),
}).strict().openapi('OutcomesResponse');

export const retrainResponseSchema = z.object({ signalled: z.string(), monitorStarted: z.boolean(), reason: z.string() }).strict().openapi('RetrainResponse');

export const modelsResponseSchema = z.object({
  models: z.array(z.object({ name: z.string(), latestVersion: z.number().int().nullable(), aliases: z.record(z.number().int()) }).strict()),
}).strict().openapi('ModelsResponse');

const isoDate = z.union([z.string(), z.date()]).openapi({ type: 'string', format: 'date-time' });
const versionSchema = z.object({
  version: z.number().int(), status: z.string(), aliases: z.array(z.string()), runId: z.string(), datasetId: z.string(), engine: z.string(),
  params: z.record(z.union([z.number(), z.string(), z.null()])).openapi({ description: "the engine's options the grid chose" }),
  scoring: z.string(), threshold: n,
  metrics: z.record(nn).openapi({ description: 'holdout metrics (precision, recall, f1, roc_auc, …); null where undefined' }),
  confusion: z.object({ tp: z.number().int(), fp: z.number().int(), tn: z.number().int(), fn: z.number().int() }).strict(),
  trigger: z.string(), reason: z.string(),
  gate: z.object({ promoted: z.boolean(), reason: z.string(), comparedWith: z.number().int().nullable(), at: isoDate }).strict().nullable()
    .openapi({ description: "the promotion gate's verdict (null: not gated yet)" }),
  createdAt: isoDate,
}).strict().openapi('ModelVersion');
export const versionsResponseSchema = z.object({
  model: z.string(),
  aliases: z.record(z.object({ version: z.number().int(), updatedAt: isoDate, updatedBy: z.string().nullable().optional(), reason: z.string().nullable().optional() }).strict()),
  versions: z.array(versionSchema),
  aliasHistory: z.array(z.object({ alias: z.string(), from: z.number().int().nullable(), to: z.number().int(), by: z.string().nullable().optional(), reason: z.string().nullable().optional(), at: isoDate }).strict()),
}).strict().openapi('VersionsResponse');

export const aliasResponseSchema = z.object({
  model: z.string(), alias: z.string(), version: z.number().int(), from: z.number().int().nullable(), changed: z.boolean(),
  updatedAt: isoDate.nullable(), serving: z.number().int().nullable().openapi({ description: 'the version this API process serves now (null: another model)' }),
}).strict().openapi('AliasResponse');

const expectedSchema = z.object({
  size: z.number().int(), share: nn, expectedBuyers: n, expectedNonBuyers: n, expectedRecall: nn, expectedPrecision: nn, lift: nn,
}).strict().openapi('ExpectedOutcome', { description: 'expectations from the calibrated probabilities of the scored population' });
const observedSchema = z.object({
  size: n, holdoutSize: z.number().int(), share: nn, observedBuyers: n, observedPrecision: nn,
  precisionInterval: z.tuple([n, n]).nullable().openapi({ description: 'Wilson 95 %' }), observedRecall: nn, lift: nn, expectedBuyers: n,
}).strict().openapi('ObservedOutcome', { description: "the production version's holdout at the same share: observed buyers among users it never trained on" });
const gainsRow = z.object({ decile: z.number().int(), size: z.number().int(), share: nn, buyersShare: nn, cumulativeLift: nn, decileLift: nn }).strict();
const figuresShape = {
  rule: audienceRuleSchema, label: z.string(), version: z.number().int(), population: z.number().int(), threshold: nn,
  expected: expectedSchema, observed: observedSchema.nullable(), summary: z.string(),
};
export const figuresSchema = z.object(figuresShape).strict().openapi('AudienceFigures');
// Not figuresSchema.extend(): the generator writes an extension as allOf [ref, extra], and a strict
// extra part then forbids the base's fields (the fuzz run's first finding).
export const previewResponseSchema = z.object({
  ...figuresShape,
  charts: z.object({
    histogram: z.object({ edges: z.array(n), counts: z.array(z.number().int()) }).strict(),
    gains: z.array(gainsRow), observedGains: z.array(gainsRow).nullable(), reliability: z.unknown().nullable(),
  }).strict().optional(),
}).strict().openapi('AudiencePreview');
export const savedStatsSchema = z.object({
  name: z.string(), rule: audienceRuleSchema, label: z.string(), description: z.string().nullable(), figures: figuresSchema,
  today: z.object({ from: z.string(), to: z.string(), members: z.number().int() }).strict(),
  yesterday: z.object({ from: z.string(), to: z.string(), members: z.number().int(), matured: z.number().int(), buyers: z.number().int(), conversion: nn, interval: z.tuple([n, n]).nullable() }).strict(),
}).strict().openapi('SavedAudience');
export const audiencesResponseSchema = z.object({
  model: z.object({ name: z.string(), version: z.number().int(), scored: z.number().int(), dataTime: z.string() }).strict().nullable(),
  reason: z.string().optional().openapi({ description: 'why there are no figures (no scores yet)' }),
  audiences: z.array(z.union([savedStatsSchema, z.object({ name: z.string(), rule: audienceRuleSchema, description: z.string().nullable() }).strict()])),
}).strict().openapi('AudiencesResponse');
export const savedResponseSchema = z.object({ name: z.string(), rule: audienceRuleSchema, created: z.boolean() }).strict().openapi('SaveAudienceResponse');

export const healthResponseSchema = z.object({ status: z.literal('ok') }).strict();
export const readyResponseSchema = z.object({
  status: z.enum(['ready', 'not-ready']),
  checks: z.record(z.object({ ok: z.boolean(), detail: z.string().optional() }).strict()),
}).strict().openapi('Readiness');
