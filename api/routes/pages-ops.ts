import express, { Router } from 'express';
import { AliasConflictError, aliasHistory, getAlias, getVersion, listAliases, listVersions, setAlias, VersionNotFoundError } from '../../store/registry';
import { PRODUCTION_ALIAS, PSI_BANDS } from '../page-constants';
import { barChart, histogramPair } from '../charts';
import { driftView, monitorStatus } from '../page-data';
import { policyFromConfig } from '../../client/monitor';
import { tokenMatches } from '../auth';
import { HttpError } from '../errors';
import { scoreOne } from '../scoring';
import type { AppDeps } from '../deps';

/** The HTML forms' bodies (application/x-www-form-urlencoded): parsed on the two routes that take them, not on every request. */
const formBody = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 });

const field = (v: unknown) => (typeof v === 'string' ? v : '');

/** Drift and predict pages, and the models page's promote / roll back form. */
export function opsPagesRouter(deps: AppDeps): Router {
  const r = Router();
  const name = deps.config.MODEL_NAME;

  r.get('/drift', async (_req, res) => {
    const alias = await getAlias(deps.db, name, PRODUCTION_ALIAS);
    const production = alias ? await getVersion(deps.db, name, alias.version) : null;
    // The sample the monitor judges: its policy in force (setPolicy may have changed it), else the config's.
    const policy = production ? (await monitorStatus(deps.temporal, name)).status?.policy ?? policyFromConfig(deps.config) : null;
    const drift = production && policy ? await driftView(deps.db, production, { windowDays: policy.windowDays, minUsers: policy.minDriftUsers }) : null;
    const withPsi = drift?.features.filter((x) => x.psi !== null) ?? [];
    const psiChart = withPsi.length > 0
      ? barChart([...withPsi].sort((a, b) => b.psi! - a.psi!).map((x) => ({ label: x.feature, value: x.psi!, color: x.level === 'drift' ? '#b42318' : x.level === 'warning' ? '#e0a100' : '#17803d' })),
        // One extreme feature must not flatten the rest: the axis stops at 1 and longer bars are clipped (their value still shows).
        { title: 'PSI per feature (current vs training snapshot)', bands: PSI_BANDS, max: Math.max(0.3, Math.min(1, Math.max(...withPsi.map((x) => x.psi!)))) * 1.1 })
      : null;
    const histograms = drift?.features.map((x) => ({ feature: x.feature, level: x.level, psi: x.psi, svg: histogramPair(x.feature, x.binLabels, x.reference, x.current) })) ?? [];
    res.render('drift', { title: 'Drift', page: 'drift', modelName: name, production, drift, psiChart, histograms });
  });

  r.get('/predict', (_req, res) => {
    res.render('predict', { title: 'Predict', page: 'predict', modelName: name, serving: deps.models.current(), input: {}, result: null, error: null, maxBytes: deps.config.BATCH_MAX_BYTES });
  });

  r.post('/predict', formBody, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const input = { user_id: field(body.user_id), first_open: field(body.first_open), screen_list: field(body.screen_list), age: field(body.age) };
    const m = deps.models.current();
    let result = null;
    let error: string | null = null;
    if (!m) error = 'no production model yet: train one first';
    else {
      try {
        // one user: the exact explanation (≤ ~40 ms) is always shown; engines without one just skip it
        let scored;
        try {
          scored = scoreOne(m, input, '', true);
        } catch (err) {
          if (!(err instanceof HttpError && err.code === 'explain-unsupported')) throw err;
          scored = scoreOne(m, input, '');
        }
        deps.predictionLog?.record({ name: m.modelName, version: m.version }, [scored]);
        result = { ...scored, version: m.version, threshold: m.threshold };
        deps.metrics?.countPredictions(m.modelName, m.version, 1);
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        error = err.message;
      }
    }
    res.status(error ? (m ? 400 : 503) : 200).render('predict', { title: 'Predict', page: 'predict', modelName: name, serving: m, input, result, error, maxBytes: deps.config.BATCH_MAX_BYTES });
  });

  r.post('/models/alias', formBody, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const version = Number(field(body.version));
    const reason = field(body.reason).trim();
    const alias = field(body.alias) || PRODUCTION_ALIAS;
    let error: string | null = null;
    let status = 400;
    if (!deps.config.API_TOKEN) { error = 'this API has no API_TOKEN configured: moving aliases is disabled'; status = 503; }
    else if (!tokenMatches(deps.config.API_TOKEN, body.token)) { error = 'the API token is missing or wrong'; status = 403; }
    else if (!Number.isInteger(version) || version < 1) error = `version must be a positive integer (got ${JSON.stringify(field(body.version))})`;
    else if (!/^[a-z][a-z0-9_-]{0,31}$/.test(alias)) error = 'alias must be lower-case letters, digits, _ or -';
    else if (reason === '' || reason.length > 500) error = 'reason is required (at most 500 characters): it is recorded in the alias history';
    if (!error) {
      try {
        const { from, changed } = await setAlias(deps.db, name, alias, version, { by: 'status-page', reason, expect: body.expect ? Number(body.expect) : undefined });
        if (alias === PRODUCTION_ALIAS) await deps.models.refresh();
        const msg = changed ? `${alias} moved from v${from ?? '–'} to v${version}` : `${alias} already pointed at v${version}`;
        res.redirect(303, `/models?moved=${encodeURIComponent(msg)}`);
        return;
      } catch (err) {
        if (err instanceof VersionNotFoundError) { error = err.message; status = 404; }
        else if (err instanceof AliasConflictError) { error = `${err.message}: someone moved it first; reload and retry`; status = 409; }
        else throw err;
      }
    }
    const [versions, aliases, history] = await Promise.all([listVersions(deps.db, name, 50), listAliases(deps.db, name), aliasHistory(deps.db, name, 50)]);
    res.status(status).render('models', {
      title: 'Models', page: 'models', modelName: name, versions, aliases, history, flash: null, error,
      serving: deps.models.current()?.version ?? null, tokenConfigured: Boolean(deps.config.API_TOKEN),
    });
  });
  return r;
}
