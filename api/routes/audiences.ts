import { Router, type Request, type Response } from 'express';
import { audienceRuleSchema, savedAudienceSchema, type AudienceRule } from '../../common/audience';
import { deleteAudience, getAudience, listAudiences, saveAudience } from '../../store/audiences';
import { MEMBER_CSV_HEADER, NoScoresError, audienceFigures, audienceMembers, memberLine, populationCharts, productionPopulation, savedAudienceStats, savedAudiencesStats, type MemberRow, type Population } from '../../client/audiences';
import { HttpError } from '../errors';
import { requireToken } from '../auth';
import { parseBody, requireJson } from '../validation';
import { csvCell } from '../../data/csv-cell';
import type { AppDeps } from '../deps';

const NUMERIC_FIELD: Record<AudienceRule['kind'], string> = { top_percent: 'percent', top_n: 'n', target_recall: 'recall', min_precision: 'precision' };

/**
 * A rule from query parameters: `?kind=top_percent&percent=10` (any kind with its field), or the
 * short forms `?top=10%` and `?top=500`. 400 naming the field otherwise.
 */
export function ruleFromQuery(q: Request['query']): AudienceRule {
  const one = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
  const top = one('top');
  let raw: Record<string, unknown>;
  if (top !== undefined) {
    const pct = /^\s*([0-9.]+)\s*%\s*$/.exec(top);
    raw = pct ? { kind: 'top_percent', percent: Number(pct[1]) } : { kind: 'top_n', n: Number(top) };
  } else {
    const kind = one('kind');
    if (kind === undefined) throw new HttpError(400, 'invalid-field', 'kind: give a rule as ?kind=top_percent&percent=10 (or top_n&n=, target_recall&recall=, min_precision&precision=) or ?top=10%');
    const field = NUMERIC_FIELD[kind as AudienceRule['kind']];
    raw = { kind, ...(field && one(field) !== undefined ? { [field]: Number(one(field)) } : {}) };
  }
  return parseBody(audienceRuleSchema, raw);
}

/** The production population, or 409 with the reason when it has no scores. */
export async function populationOr409(deps: AppDeps): Promise<Population> {
  try {
    return await productionPopulation(deps.db, deps.config.MODEL_NAME);
  } catch (err) {
    if (err instanceof NoScoresError) throw new HttpError(409, 'no-scores', err.message);
    throw err;
  }
}

async function named(deps: AppDeps, name: string) {
  const a = await getAudience(deps.db, name);
  if (!a || a.modelName !== deps.config.MODEL_NAME) throw new HttpError(404, 'unknown-audience', `no saved audience named ${JSON.stringify(name)} (GET /v1/audiences lists them)`);
  return a;
}

/** Streams members as CSV or JSON lines with back-pressure; an error mid-stream ends the body with a marked line. */
async function streamMembers(res: Response, rows: AsyncGenerator<MemberRow>, format: 'csv' | 'jsonl', fileName: string) {
  res.status(200).set(format === 'csv'
    ? { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${fileName}.csv"` }
    : { 'content-type': 'application/x-ndjson; charset=utf-8' });
  if (format === 'csv') res.write(MEMBER_CSV_HEADER);
  let n = 0;
  try {
    for await (const row of rows) {
      const text = memberLine(row, format);
      n++;
      if (!res.write(text)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    res.write(format === 'csv' ? `${csvCell(`aborted after ${n} rows: ${msg}`)}\n` : `${JSON.stringify({ error: `aborted after ${n} rows: ${msg}` })}\n`, () => res.destroy());
  }
}

/**
 * Audiences (issue 13 §2): saved rules (the token saves, deletes and lists members: members are
 * user data) and figures for any rule or size (public, like the status pages).
 */
export function audiencesRouter(deps: AppDeps): Router {
  const r = Router();
  const auth = requireToken(deps.config.API_TOKEN);

  r.get('/v1/audiences', async (_req, res) => {
    const saved = await listAudiences(deps.db, deps.config.MODEL_NAME);
    let pop: Population;
    try {
      pop = await productionPopulation(deps.db, deps.config.MODEL_NAME);
    } catch (err) {
      if (!(err instanceof NoScoresError)) throw err;
      res.json({ model: null, reason: err.message, audiences: saved.map((a) => ({ name: a._id, rule: a.rule, description: a.description ?? null })) });
      return;
    }
    const stats = await savedAudiencesStats(deps.db, pop, saved);
    res.json({ model: { name: pop.modelName, version: pop.version, scored: pop.curve.n, dataTime: new Date(pop.dataTime).toISOString() }, audiences: stats });
  });

  r.get('/v1/audiences/preview', async (req, res) => {
    const rule = ruleFromQuery(req.query);
    const pop = await populationOr409(deps);
    res.json({ ...audienceFigures(pop, rule), ...(req.query.charts === 'true' ? { charts: populationCharts(pop) } : {}) });
  });

  r.post('/v1/audiences', auth, requireJson, async (req, res) => {
    const body = parseBody(savedAudienceSchema, req.body);
    const { created } = await saveAudience(deps.db, { name: body.name, modelName: deps.config.MODEL_NAME, rule: body.rule, description: body.description, by: 'api' });
    res.status(created ? 201 : 200).json({ name: body.name, rule: body.rule, created });
  });

  r.get('/v1/audiences/:name', async (req, res) => {
    const a = await named(deps, String(req.params.name));
    const pop = await populationOr409(deps);
    res.json(await savedAudienceStats(deps.db, pop, a));
  });

  r.delete('/v1/audiences/:name', auth, async (req, res) => {
    await named(deps, String(req.params.name));
    await deleteAudience(deps.db, String(req.params.name));
    res.status(204).end();
  });

  // `_` as the name takes the rule from the query (`/v1/audiences/_/users?top=10%`).
  r.get('/v1/audiences/:name/users', auth, async (req, res) => {
    const format = req.query.format === undefined || req.query.format === 'csv' ? 'csv' : req.query.format === 'jsonl' ? 'jsonl' : null;
    if (!format) throw new HttpError(400, 'invalid-field', `format: must be csv or jsonl, got ${JSON.stringify(req.query.format)}`);
    const name = String(req.params.name);
    const rule = name === '_' ? ruleFromQuery(req.query) : (await named(deps, name)).rule;
    const pop = await populationOr409(deps);
    await streamMembers(res, audienceMembers(deps.db, pop, rule, { open: req.query.open === 'true' }), format, `${name === '_' ? 'audience' : name}-v${pop.version}`);
  });
  return r;
}
