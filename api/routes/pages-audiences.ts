import { formatRule } from '../../common/audience';
import { Router, type Request } from 'express';
import type { AudienceRule } from '../../common/audience';
import { listAudiences } from '../../store/audiences';
import { NoScoresError, audienceFigures, populationCharts, productionPopulation, savedAudiencesStats, type AudienceFigures, type Population } from '../../client/audiences';
import { columnChart, histogramChart, lineChart } from '../charts';
import { HttpError } from '../errors';
import { ruleFromQuery } from './audiences';
import type { AppDeps } from '../deps';

/** The page opens on the top 10 %, the example size. */
const DEFAULT_RULE: AudienceRule = { kind: 'top_percent', percent: 10 };
const EXPECTED_COLOR = '#3b6fd4';
const OBSERVED_COLOR = '#d4703b';
/** Three charts side by side fit the pages' 1200 px column. */
const CHART_W = 350;

/**
 * Number formats shared by the server-rendered figures and the page's script (views/audiences.ejs
 * repeats these four one-liners; the browser test checks both render the same text).
 */
export const audienceFormat = {
  /** users and buyers: integers grouped, expected (fractional) counts with one decimal */
  count: (v: number | null) => (v === null ? '–' : Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })),
  pct: (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`),
  lift: (v: number | null) => (v === null ? '–' : `${v.toFixed(2)}×`),
  interval: (v: [number, number] | null) => (v === null ? '' : `95 % CI ${(v[0] * 100).toFixed(1)}–${(v[1] * 100).toFixed(1)} %`),
  prob: (v: number | null) => (v === null ? '–' : v.toFixed(4)),
  /** an ISO instant to the minute, as the page's UTC times read */
  time: (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`,
};

/**
 * The size form's slider and number box both submit `percent`. With the script they agree; without
 * it, the one the reader changed is the one that differs from `shown` (the size on screen), and the
 * box, being the precise one and last in the form, wins when both changed.
 */
function sizeQuery(q: Request['query']): Request['query'] {
  if (!Array.isArray(q.percent)) return q;
  const values = q.percent.filter((v): v is string => typeof v === 'string');
  const moved = values.filter((v) => Number(v) !== Number(q.shown));
  return { ...q, percent: moved.at(-1) ?? values.at(-1) };
}

/** Figures with the observed side's non-buyers, which the page shows and the JSON leaves implicit. */
function withNonBuyers(fig: AudienceFigures) {
  return { ...fig, observed: fig.observed ? { ...fig.observed, nonBuyers: fig.observed.size - fig.observed.observedBuyers } : null };
}

function charts(pop: Population, fig: AudienceFigures) {
  const c = populationCharts(pop);
  const cut = { x: fig.expected.share, label: fig.label, key: 'expected.share' };
  const gainsLine = (rows: typeof c.gains, name: string, color: string) =>
    ({ name, color, dots: true, x: [0, ...rows.map((r) => r.share ?? 0)], y: [0, ...rows.map((r) => r.buyersShare ?? 0)] });
  const rel = c.reliability;
  // zoom the reliability diagram to its points (small probabilities crowd one corner of the unit
  // square), on an axis end whose quarter ticks read well
  const relTop = rel ? Math.max(...rel.meanPredicted, ...rel.observedRate) * 1.05 : 1;
  const relMax = [0.1, 0.2, 0.4, 0.6, 0.8].find((m) => m >= relTop) ?? 1;
  return {
    histogram: histogramChart(c.histogram, {
      title: `Scores of the ${pop.curve.n.toLocaleString('en-US')} scored users`, xLabel: 'purchase probability', yLabel: 'users', width: CHART_W,
      marker: { x: fig.threshold, label: `p ≥ ${audienceFormat.prob(fig.threshold)}`, key: 'threshold' },
    }),
    gains: lineChart([gainsLine(c.gains, 'expected (population)', EXPECTED_COLOR), ...(c.observedGains ? [gainsLine(c.observedGains, 'observed (holdout)', OBSERVED_COLOR)] : [])],
      { title: 'Cumulative gains by decile', xLabel: 'share of users, highest probability first', yLabel: 'share of buyers captured', diagonal: true, marker: cut, width: 420, height: 320 }),
    lift: columnChart(c.gains.map((r) => String(r.decile)), [
      { name: 'expected', color: EXPECTED_COLOR, values: c.gains.map((r) => r.decileLift) },
      ...(c.observedGains ? [{ name: 'observed (holdout)', color: OBSERVED_COLOR, values: c.observedGains.map((r) => r.decileLift) }] : []),
    ], { title: 'Lift by decile', xLabel: 'decile (1 = top 10 % by probability)', yLabel: 'buyer rate ÷ overall rate', reference: { at: 1, label: 'random' }, format: (v) => `${v.toFixed(2)}×`, width: CHART_W }),
    reliability: rel && rel.meanPredicted.length > 0
      ? lineChart([{ name: 'holdout bins', x: rel.meanPredicted, y: rel.observedRate, color: '#2f9e6a', dots: true }],
        { title: 'Reliability (holdout, equal-mass bins)', xLabel: 'mean predicted probability', yLabel: 'observed buyer rate', diagonal: true, max: relMax, width: CHART_W })
      : null,
    gainsRows: c.gains.map((r, i) => ({ expected: r, observed: c.observedGains?.[i] ?? null })),
    reliabilityRows: rel ? rel.meanPredicted.map((m, i) => ({ meanPredicted: m, observedRate: rel.observedRate[i]!, count: rel.count[i]! })) : [],
  };
}

/**
 * The marketing page (issue 13 §3): how many buyers an audience of a chosen size is expected to
 * hold and what the holdout observed at the same share, the population's score charts, and the
 * saved audiences with today's members and yesterday's conversion. Bad input and a missing
 * population are shown on the page (400 / 409), never as JSON.
 */
export function audiencePagesRouter(deps: AppDeps): Router {
  const r = Router();
  const name = deps.config.MODEL_NAME;

  r.get('/audiences', async (req, res) => {
    let rule = DEFAULT_RULE;
    let error: string | null = null;
    if (req.query.top !== undefined || req.query.kind !== undefined) {
      try {
        rule = ruleFromQuery(sizeQuery(req.query));
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        // the field's own sentence ("percent must be in (0, 100], got 140"), without the API's prefix and rule
        error = (err.details as { message?: string }[] | undefined)?.[0]?.message ?? err.message;
      }
    }
    const saved = await listAudiences(deps.db, name);
    const base = { title: 'Audiences', page: 'audiences', modelName: name, fmt: audienceFormat, error, rule };
    let pop: Population;
    try {
      pop = await productionPopulation(deps.db, name);
    } catch (err) {
      if (!(err instanceof NoScoresError)) throw err;
      res.status(error ? 400 : 409).render('audiences', { ...base, reason: err.message, saved: saved.map((a) => ({ name: a._id, rule: a.rule, label: formatRule(a.rule), description: a.description ?? null })) });
      return;
    }
    const fig = audienceFigures(pop, rule);
    const stats = await savedAudiencesStats(deps.db, pop, saved);
    const hs = pop.doc.holdoutSample;
    res.status(error ? 400 : 200).render('audiences', {
      ...base, reason: null, fig: withNonBuyers(fig), charts: charts(pop, fig), stats,
      version: pop.version, scored: pop.curve.n, dataTime: new Date(pop.dataTime).toISOString(),
      calibration: pop.doc.calibration?.kind ?? null, holdout: hs ? { sampled: hs.p.length, of: hs.n } : null,
      // the size controls start at the rule's share (a top_n or target rule shows what share it took)
      percent: rule.kind === 'top_percent' ? rule.percent : Math.max(0.1, Math.round((fig.expected.share ?? 0.1) * 1000) / 10),
    });
  });
  return r;
}
