import { Router } from 'express';
import { withTimeout } from '../../common/timeout';
import type { AppDeps } from '../deps';

type Check = { ok: boolean; detail?: string };

/** GET /healthz (process up), /readyz (MongoDB, Temporal, a loaded model), /metrics (Prometheus text). */
export function healthRouter(deps: AppDeps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const checks: Record<string, Check> = {};
    const mongo = async (): Promise<Check> => {
      try {
        await withTimeout(deps.db.command({ ping: 1 }), 2000, 'no answer within 2 s');
        return { ok: true };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    };
    const temporal = async (): Promise<Check> => {
      if (!deps.temporal) return { ok: false, detail: 'no Temporal connection (TEMPORAL_ADDRESS unreachable at start)' };
      try {
        await withTimeout(deps.temporal.workflowService.getSystemInfo({}), 2000, 'no answer within 2 s');
        return { ok: true };
      } catch (err) {
        return { ok: false, detail: (err as Error).message.split('\n')[0] };
      }
    };
    [checks.mongodb, checks.temporal] = await Promise.all([mongo(), temporal()]);
    const m = deps.models.current();
    checks.model = m ? { ok: true, detail: `${m.modelName} v${m.version}` } : { ok: false, detail: deps.models.lastError ?? 'no production model loaded' };
    const ok = Object.values(checks).every((c) => c.ok);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not-ready', checks });
  });
  r.get('/metrics', async (_req, res) => {
    const m = deps.models.current();
    const text = await deps.metrics?.render({
      model: m ? { name: m.modelName, version: m.version, loadMs: m.loadMs } : null,
      modelLoads: deps.models.loadCount,
      ...(deps.predictionLog ? { predictionLog: { written: deps.predictionLog.written, dropped: deps.predictionLog.dropped } } : {}),
    }) ?? '';
    res.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });
  return r;
}
