import { Router } from 'express';
import { getAlias } from '../../store/registry';
import { getVersion } from '../../store/registry';
import { listRuns } from '../../store/runs';
import { PRODUCTION_ALIAS } from '../../common/constants';
import type { AppDeps } from '../app';

/** Link to a workflow run in the Temporal Web UI, or null when the UI address is unknown. */
export function temporalRunUrl(uiUrl: string | null, namespace: string, workflowId: string): string | null {
  return uiUrl ? `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}` : null;
}

export function pagesRouter(deps: AppDeps): Router {
  const r = Router();
  const ns = deps.config.TEMPORAL_NAMESPACE;
  r.get('/', async (_req, res) => {
    const name = deps.config.MODEL_NAME;
    const alias = await getAlias(deps.db, name, PRODUCTION_ALIAS);
    const production = alias ? await getVersion(deps.db, name, alias.version) : null;
    const runs = (await listRuns(deps.db, name, 10)).map((run) => ({ ...run, url: temporalRunUrl(deps.temporalUiUrl, ns, run._id) }));
    res.render('overview', {
      title: 'Overview',
      modelName: name,
      alias,
      production,
      productionRunUrl: production ? temporalRunUrl(deps.temporalUiUrl, ns, production.runId) : null,
      runs,
      serving: deps.models.current()?.version ?? null,
    });
  });
  return r;
}
