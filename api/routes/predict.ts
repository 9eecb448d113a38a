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
 * POST /v1/predict: one user object, or an array of up to PREDICT_MAX_BATCH users. The app mounts
 * it directly (`app.post`, after `requireJson`), not through a Router: the hot route skips a
 * nested router's dispatch.
 */
export function predictHandler(deps: AppDeps): RequestHandler {
  return (req, res) => {
    const m = currentModel(deps);
    if (req.body === undefined) throw new HttpError(400, 'invalid-body', 'send a JSON body with Content-Type: application/json');
    const requestId = requestIdOf(res);
    const model = servingShape(m).modelInfo;
    const explain = req.query.explain !== undefined && explainFlag(req.query.explain);
    if (Array.isArray(req.body)) {
      if (req.body.length === 0) throw new HttpError(400, 'invalid-body', 'body array is empty');
      if (req.body.length > deps.config.PREDICT_MAX_BATCH) throw new HttpError(413, 'too-many-users', `body has ${req.body.length} users; the limit is ${deps.config.PREDICT_MAX_BATCH}`);
      if (explain && req.body.length > deps.config.EXPLAIN_MAX_BATCH) throw new HttpError(413, 'too-many-to-explain', `explain=true takes at most ${deps.config.EXPLAIN_MAX_BATCH} users per request (an exact explanation costs up to ~40 ms each); got ${req.body.length}`);
      const scored = scoreMany(m, req.body, explain);
      deps.predictionLog?.record(model, scored);
      deps.metrics?.countPredictions(m.modelName, m.version, scored.length);
      res.json({ requestId, model, predictions: scored.map(({ firstOpen: _f, ...p }) => p) });
      return;
    }
    const p = scoreOne(m, req.body, '', explain);
    deps.predictionLog?.recordOne(m.modelName, m.version, p.user_id, p.probability, p.decision, p.firstOpen);
    deps.metrics?.countPredictions(m.modelName, m.version, 1);
    res.json({ requestId, model, user_id: p.user_id, probability: p.probability, decision: p.decision, percentile: p.percentile, ...(p.explanation ? { explanation: p.explanation } : {}) });
  };
}
