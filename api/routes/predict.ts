import type { RequestHandler } from 'express';
import { HttpError } from '../errors';
import { requestIdOf } from '../observe';
import { scoreMany, scoreOne, servingShape } from '../scoring';
import type { LoadedModel } from '../../store/model-loader';
import type { AppDeps } from '../deps';

/** The production model, or 503 naming what to do when there is none yet. */
export function currentModel(deps: AppDeps): LoadedModel {
  const m = deps.models.current();
  if (!m) throw new HttpError(503, 'no-model', `no production model for ${deps.config.MODEL_NAME} yet: run the training pipeline (retail24 train) first`);
  return m;
}

/** `?explain=true|false`; anything else is a 400 naming the parameter. */
function explainFlag(v: unknown): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new HttpError(400, 'invalid-field', `explain: must be true or false, got ${JSON.stringify(v)}`);
}

/**
 * The response body of POST /v1/predict: one user object, or an array of up to
 * PREDICT_MAX_BATCH users; `explain` is the query parameter as parsed (one value or several).
 * Scores, logs the predictions and counts them. Shared by the Express route and the fast path
 * (api/fast-predict.ts). @throws HttpError naming what is wrong
 */
export async function predictResponse(deps: AppDeps, body: unknown, explainParam: unknown, requestId: string): Promise<object> {
  const m = currentModel(deps);
  if (body === undefined) throw new HttpError(400, 'invalid-body', 'send a JSON body with Content-Type: application/json');
  const model = servingShape(m).modelInfo;
  const explain = explainParam !== undefined && explainFlag(explainParam);
  if (Array.isArray(body)) {
    if (body.length === 0) throw new HttpError(400, 'invalid-body', 'body array is empty');
    if (body.length > deps.config.PREDICT_MAX_BATCH) throw new HttpError(413, 'too-many-users', `body has ${body.length} users; the limit is ${deps.config.PREDICT_MAX_BATCH}`);
    if (explain && body.length > deps.config.EXPLAIN_MAX_BATCH) throw new HttpError(413, 'too-many-to-explain', `explain=true takes at most ${deps.config.EXPLAIN_MAX_BATCH} users per request (an exact explanation costs up to ~40 ms each); got ${body.length}`);
    const scored = await scoreMany(m, body, explain);
    deps.predictionLog?.record(model, scored);
    deps.metrics?.countPredictions(m.modelName, m.version, scored.length);
    return { requestId, model, predictions: scored.map(({ firstOpen: _f, ...p }) => p) };
  }
  const p = scoreOne(m, body, '', explain);
  deps.predictionLog?.recordOne(m.modelName, m.version, p.user_id, p.probability, p.decision, p.firstOpen);
  deps.metrics?.countPredictions(m.modelName, m.version, 1);
  return { requestId, model, user_id: p.user_id, probability: p.probability, decision: p.decision, percentile: p.percentile, ...(p.explanation ? { explanation: p.explanation } : {}) };
}

/**
 * POST /v1/predict through Express: the requests the fast path hands on (another Content-Type
 * spelling, a compressed body, a trailing slash). The app mounts it directly (`app.post`, after
 * `requireJson`), not through a Router.
 */
export function predictHandler(deps: AppDeps): RequestHandler {
  return async (req, res) => {
    res.json(await predictResponse(deps, req.body, req.query.explain, requestIdOf(res)));
  };
}
