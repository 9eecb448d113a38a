import { Router } from 'express';
import { aliasHistory, getAlias, getVersion, getVersionByRun, listAliases, listVersions } from '../../store/registry';
import { getRun, listRuns } from '../../store/runs';
import { countLabelStates } from '../../store/users';
import { PRODUCTION_ALIAS } from '../../common/constants';
import { POLICY_FIELDS, describeField } from '../../common/monitor-policy';
import { barChart, lineChart } from '../charts';
import { monitorStatus } from '../page-data';
import { HttpError } from '../errors';
import type { AppDeps } from '../deps';

/** Link to a workflow run in the Temporal Web UI, or null when the UI address is unknown. */
export function temporalRunUrl(uiUrl: string | null, namespace: string, workflowId: string): string | null {
  return uiUrl ? `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}` : null;
}

const RUN_ID = /^[A-Za-z0-9_.:-]{1,200}$/;

/** Overview, runs (list, detail) and models pages; drift and predict are in pages-ops.ts. */
export function pagesRouter(deps: AppDeps): Router {
  const r = Router();
  const ns = deps.config.TEMPORAL_NAMESPACE;
  const name = deps.config.MODEL_NAME;
  const runUrl = (id: string) => temporalRunUrl(deps.temporalUiUrl, ns, id);

  r.get('/', async (_req, res) => {
    const alias = await getAlias(deps.db, name, PRODUCTION_ALIAS);
    const [production, runs, monitor, data, latest] = await Promise.all([
      alias ? getVersion(deps.db, name, alias.version) : null,
      listRuns(deps.db, name, 10),
      monitorStatus(deps.temporal, name),
      countLabelStates(deps.db),
      listVersions(deps.db, name, 1),
    ]);
    const notEligible = latest[0]?.promotion?.verdict === 'not-eligible' ? latest[0] : null;
    res.render('overview', {
      title: 'Overview', page: 'overview', modelName: name, alias, production, monitor, data,
      policyFields: POLICY_FIELDS.map((f) => ({ ...f, rule: describeField(f) })),
      productionRunUrl: production ? runUrl(production.runId) : null,
      runs: runs.map((run) => ({ ...run, url: runUrl(run._id) })),
      serving: deps.models.current()?.version ?? null,
      notEligible, eligibility: { positives: deps.config.ELIGIBILITY_MIN_POSITIVES, negatives: deps.config.ELIGIBILITY_MIN_NEGATIVES },
    });
  });

  r.get('/runs', async (_req, res) => {
    const runs = await listRuns(deps.db, name, 100);
    res.render('runs', { title: 'Runs', page: 'runs', modelName: name, runs: runs.map((run) => ({ ...run, url: runUrl(run._id) })) });
  });

  r.get('/runs/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!RUN_ID.test(id)) throw new HttpError(400, 'invalid-run-id', `run id must match ${RUN_ID.source}`);
    const run = await getRun(deps.db, id);
    if (!run) {
      res.status(404).render('not-found', { title: 'Run not found', page: 'runs', what: `run ${id}` });
      return;
    }
    const version = await getVersionByRun(deps.db, run.modelName, id);
    const charts = version ? {
      roc: lineChart([{ name: `AUC ${(version.metrics.roc_auc ?? NaN).toFixed(3)}`, x: version.curves.roc.fpr, y: version.curves.roc.tpr, color: '#3b6fd4' }], { title: 'ROC (holdout)', xLabel: 'false positive rate', yLabel: 'true positive rate', diagonal: true }),
      pr: lineChart([{ name: `AP ${(version.metrics.average_precision ?? NaN).toFixed(3)}`, x: version.curves.pr.recall, y: version.curves.pr.precision, color: '#d4703b' }], { title: 'Precision–recall (holdout)', xLabel: 'recall', yLabel: 'precision' }),
      reliability: version.reliability ? lineChart([{ name: `ECE ${(version.metrics.ece ?? NaN).toFixed(3)}`, x: version.reliability.meanPredicted, y: version.reliability.observedRate, color: '#2f9e6a' }], { title: 'Reliability (holdout, 10 equal-mass bins)', xLabel: 'mean predicted probability', yLabel: 'observed buyer rate', diagonal: true }) : null,
      importances: barChart(version.featureImportances.slice(0, 25).map((fi) => ({ label: fi.name, value: fi.importance })), { title: 'Impurity importance (top 25)' }),
      contributions: version.featureContributions ? barChart(version.featureContributions.values.slice(0, 25).map((c) => ({ label: c.name, value: c.meanAbs })), { title: `Mean |contribution| to the raw score (top 25, ${version.featureContributions.rows} holdout users)` }) : null,
    } : null;
    // The cell the selection rule chose (one-standard-error rule), not necessarily the highest mean.
    const bestKey = version?.cvTable.find((c) => c.chosen)?.cellKey ?? version?.cvTable.reduce((best, c) => (best === null || c.mean > best.mean ? c : best), null as null | (typeof version.cvTable)[number])?.cellKey;
    res.render('run', { title: `Run ${id}`, page: 'runs', run, runUrl: runUrl(id), version, charts, bestKey });
  });

  r.get('/models', async (req, res) => {
    const [versions, aliases, history] = await Promise.all([listVersions(deps.db, name, 50), listAliases(deps.db, name), aliasHistory(deps.db, name, 50)]);
    const flash = typeof req.query.moved === 'string' ? req.query.moved.slice(0, 300) : null;
    res.render('models', {
      title: 'Models', page: 'models', modelName: name, versions, aliases, history, flash, error: null,
      serving: deps.models.current()?.version ?? null, tokenConfigured: Boolean(deps.config.API_TOKEN),
    });
  });
  return r;
}
