import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { validateRawUser } from '../../data/validate';
import { transform } from '../../data/features';
import { CANONICAL_COLUMNS } from '../../data/record';
import type { Mapping } from '../../data/mapping';
import type { LoadedModel } from '../../store/model-loader';
import { HttpError } from '../errors';
import type { AppDeps } from '../app';

/** The mapping serving uses: canonical names, the model's pass-through columns, its time zone. */
function servingMapping(m: LoadedModel): Mapping {
  return { columns: {}, features: Object.fromEntries(m.spec.passThrough.map((n) => [n, 'numeric' as const])), timezone: m.spec.timezone };
}

function scoreOne(m: LoadedModel, body: unknown, path: string, buf: Float64Array) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid-body', `${path || 'body'} must be a JSON object with the raw user fields`);
  }
  const fields = body as Record<string, unknown>;
  const allowed = new Set<string>([...CANONICAL_COLUMNS, ...m.spec.passThrough]);
  const unknown = Object.keys(fields).filter((k) => !allowed.has(k));
  if (unknown.length > 0) {
    throw new HttpError(400, 'unknown-field', `${path}${unknown[0]}: unknown field (allowed: ${[...allowed].join(', ')})`, unknown.map((f) => ({ field: `${path}${f}`, rule: 'unknown-field' })));
  }
  const v = validateRawUser(fields, servingMapping(m));
  if (!v.ok) {
    const first = v.errors[0]!;
    throw new HttpError(400, 'invalid-field', `${path}${first.field}: ${first.message}`, v.errors.map((e) => ({ field: `${path}${e.field}`, rule: e.rule, message: e.message })));
  }
  const p = m.model.predictProbaRow(transform(m.spec, v.record, buf));
  return { user_id: v.record.userId, probability: p, decision: p >= m.threshold, firstOpen: v.record.firstOpen };
}

/** POST /v1/predict: one user object, or an array of up to PREDICT_MAX_BATCH users. */
export function predictRouter(deps: AppDeps): Router {
  const r = Router();
  r.post('/v1/predict', (req, res) => {
    const m = deps.models.current();
    if (!m) throw new HttpError(503, 'no-model', `no production model for ${deps.config.MODEL_NAME} yet: run the training pipeline (retail24 train) first`);
    if (req.body === undefined) throw new HttpError(400, 'invalid-body', 'send a JSON body with Content-Type: application/json');
    const buf = new Float64Array(m.spec.names.length);
    const requestId = randomUUID();
    const model = { name: m.modelName, version: m.version, threshold: m.threshold };
    if (Array.isArray(req.body)) {
      if (req.body.length === 0) throw new HttpError(400, 'invalid-body', 'body array is empty');
      if (req.body.length > deps.config.PREDICT_MAX_BATCH) throw new HttpError(413, 'too-many-users', `body has ${req.body.length} users; the limit is ${deps.config.PREDICT_MAX_BATCH}`);
      const scored = req.body.map((u, i) => scoreOne(m, u, `[${i}].`, buf));
      deps.predictionLog?.record(model, scored);
      res.json({ requestId, model, predictions: scored.map(({ firstOpen: _f, ...p }) => p) });
      return;
    }
    const { firstOpen, ...prediction } = scoreOne(m, req.body, '', buf);
    deps.predictionLog?.record(model, [{ ...prediction, firstOpen }]);
    res.json({ requestId, model, ...prediction });
  });
  return r;
}
