import { Router } from 'express';
import { z } from 'zod';
import { recordOutcomes } from '../../store/outcomes';
import { resolveWithOutcomes } from '../../store/users';
import { ensureMonitor } from '../../client/monitor';
import { requestRetrainSignal } from '../../common/messages';
import { withTimeout } from '../../common/timeout';
import { HttpError } from '../errors';
import { requireToken } from '../auth';
import { parseBody, requireJson } from '../validation';
import { outcomeSchema, retrainBodySchema } from '../schemas';
import type { AppDeps } from '../deps';

/** POST /v1/outcomes (real purchases, token) and POST /v1/retrain (signals the monitor, token). */
export function feedbackRouter(deps: AppDeps): Router {
  const r = Router();
  const auth = requireToken(deps.config.API_TOKEN);
  const max = deps.config.PREDICT_MAX_BATCH;
  const outcomeList = z.array(outcomeSchema).min(1, 'must not be empty');

  r.post('/v1/outcomes', auth, requireJson, async (req, res) => {
    if (Array.isArray(req.body) && req.body.length > max) throw new HttpError(413, 'too-many-outcomes', `body has ${req.body.length} outcomes; the limit is ${max}`);
    const list = Array.isArray(req.body) ? parseBody(outcomeList, req.body) : [parseBody(outcomeSchema, req.body)];
    // One user, one purchase: the earliest reported wins (recordOutcomes uses $min).
    const written = await recordOutcomes(deps.db, list.map((o) => ({ userId: o.user_id, purchaseAt: o.purchase_date })));
    // A reported purchase is an observation: pending users it concerns get their label now.
    const resolved = await resolveWithOutcomes(deps.db, list.map((o) => ({ userId: o.user_id, purchaseAt: o.purchase_date.getTime() })));
    res.status(202).json({ received: list.length, written, resolved });
  });

  r.post('/v1/retrain', auth, requireJson, async (req, res) => {
    const body = parseBody(retrainBodySchema, req.body);
    const client = deps.temporal;
    if (!client) throw new HttpError(503, 'temporal-unavailable', 'this API process has no Temporal connection: check TEMPORAL_ADDRESS and /readyz');
    try {
      const { workflowId, started } = await withTimeout(ensureMonitor(client, deps.config), 10_000, 'Temporal did not answer within 10 s');
      await withTimeout(
        client.workflow.getHandle(workflowId).signal(requestRetrainSignal, { reason: body.reason, requestedBy: body.requestedBy ?? 'api' }),
        10_000, 'Temporal did not answer within 10 s');
      res.status(202).json({ signalled: workflowId, monitorStarted: started, reason: body.reason });
    } catch (err) {
      throw new HttpError(503, 'temporal-unavailable', `could not signal the monitor: ${(err as Error).message.split('\n')[0]}`);
    }
  });
  return r;
}
