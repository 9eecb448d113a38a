import { Router } from 'express';
import type { AppDeps } from '../app';

export function healthRouter(deps: AppDeps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    try {
      await deps.db.command({ ping: 1 });
      checks.mongodb = { ok: true };
    } catch (err) {
      checks.mongodb = { ok: false, detail: (err as Error).message };
    }
    const m = deps.models.current();
    checks.model = m ? { ok: true, detail: `${m.modelName} v${m.version}` } : { ok: false, detail: deps.models.lastError ?? 'no production model loaded' };
    const ok = Object.values(checks).every((c) => c.ok);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not-ready', checks });
  });
  return r;
}
