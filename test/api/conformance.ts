import type { z } from 'zod';
import { openApiDocument } from '../../api/openapi';
import { loadConfig } from '../../config';
import {
  aliasResponseSchema, audiencesResponseSchema, errorSchema, healthResponseSchema, modelsResponseSchema, outcomesResponseSchema,
  predictManyResponseSchema, predictOneResponseSchema, previewResponseSchema, readyResponseSchema, retrainResponseSchema,
  savedResponseSchema, savedStatsSchema, versionsResponseSchema,
} from '../../api/schemas';

/**
 * Every response the API tests receive is checked against the API's own description: the status
 * must be documented for the operation in /openapi.json, an error body must be the Error schema,
 * and a JSON success body must parse with the operation's response schema (strict objects, so an
 * undocumented field fails). What the fuzz run's response-schema check asks, on every call the
 * tests make through the real server.
 */
type Doc = { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
const doc = openApiDocument(loadConfig({})) as Doc;

const SUCCESS: Record<string, z.ZodTypeAny> = {
  'post /v1/predict': predictOneResponseSchema.or(predictManyResponseSchema),
  'post /v1/outcomes': outcomesResponseSchema,
  'get /v1/models': modelsResponseSchema,
  'get /v1/models/{name}/versions': versionsResponseSchema,
  'post /v1/models/{name}/aliases/{alias}': aliasResponseSchema,
  'post /v1/retrain': retrainResponseSchema,
  'get /v1/audiences': audiencesResponseSchema,
  'post /v1/audiences': savedResponseSchema,
  'get /v1/audiences/preview': previewResponseSchema,
  'get /v1/audiences/{name}': savedStatsSchema,
  'get /healthz': healthResponseSchema,
  'get /readyz': readyResponseSchema,
  'get /readyz 503': readyResponseSchema,
};

// Literal paths before templated ones: /v1/audiences/preview is not /v1/audiences/{name}.
const templates = Object.keys(doc.paths)
  .sort((a, b) => Number(a.includes('{')) - Number(b.includes('{')))
  .map((t) => ({ t, re: new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`) }));

/** Throws naming the operation when a response is not what the document says. */
export function checkDocumented(method: string, url: string, status: number, contentType: string | null, json: unknown): void {
  const path = new URL(url).pathname;
  const hit = templates.find(({ re }) => re.test(path));
  if (!hit) return; // pages, /openapi.json and unknown routes are not part of the API description
  const op = doc.paths[hit.t]![method.toLowerCase()];
  if (!op) return; // a method the path does not have: express answers 404, as for unknown routes
  const where = `${method} ${hit.t} → ${status}`;
  if (!(String(status) in op.responses)) throw new Error(`${where}: status not documented in /openapi.json (documented: ${Object.keys(op.responses).join(', ')})`);
  if (!contentType?.startsWith('application/json')) return;
  const key = `${method.toLowerCase()} ${hit.t}`;
  const schema = SUCCESS[`${key} ${status}`] ?? (status >= 400 ? errorSchema : SUCCESS[key]);
  if (!schema) throw new Error(`${where}: JSON body but no response schema for the operation`);
  const r = schema.safeParse(json);
  if (!r.success) throw new Error(`${where}: body does not match its documented schema: ${r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
}
