import { Router } from 'express';
import { aliasHistory, AliasConflictError, getAlias, listAliases, listModelNames, listVersions, setAlias, VersionNotFoundError } from '../../store/registry';
import { PRODUCTION_ALIAS } from '../../common/constants';
import { HttpError } from '../errors';
import { requireToken } from '../auth';
import { parseBody, requireJson } from '../validation';
import { ALIAS_NAME_PATTERN, MODEL_NAME_PATTERN, aliasBodySchema } from '../schemas';
import type { AppDeps } from '../deps';

function checkName(name: string): string {
  if (!MODEL_NAME_PATTERN.test(name)) throw new HttpError(400, 'invalid-model-name', `model name ${JSON.stringify(name.slice(0, 100))} must match ${MODEL_NAME_PATTERN.source}`, [{ field: 'name', rule: 'pattern', message: `must match ${MODEL_NAME_PATTERN.source}` }]);
  return name;
}

/** A version as the API shows it: metrics and decision threshold, no blobs or curves. */
function versionView(v: Awaited<ReturnType<typeof listVersions>>[number], aliases: string[]) {
  return {
    version: v.version, status: v.status, aliases, runId: v.runId, datasetId: v.datasetId, engine: v.engine, params: v.params,
    scoring: v.scoring, threshold: v.threshold.threshold, metrics: v.metrics, confusion: v.confusion, trigger: v.trigger,
    reason: v.reason, gate: v.gate ?? null, createdAt: v.createdAt,
  };
}

/** GET /v1/models, GET /v1/models/:name/versions, POST /v1/models/:name/aliases/:alias (token). */
export function modelsRouter(deps: AppDeps): Router {
  const r = Router();
  r.get('/v1/models', async (_req, res) => {
    const names = await listModelNames(deps.db);
    const models = await Promise.all(names.map(async (name) => {
      const aliases = await listAliases(deps.db, name);
      const [latest] = await listVersions(deps.db, name, 1);
      return { name, latestVersion: latest?.version ?? null, aliases: Object.fromEntries(aliases.map((a) => [a.alias, a.version])) };
    }));
    res.json({ models });
  });

  r.get('/v1/models/:name/versions', async (req, res) => {
    const name = checkName(req.params.name);
    const [versions, aliases] = await Promise.all([listVersions(deps.db, name, 200), listAliases(deps.db, name)]);
    if (versions.length === 0) throw new HttpError(404, 'model-not-found', `no model named ${JSON.stringify(name)} is registered`);
    const byVersion = new Map<number, string[]>();
    for (const a of aliases) byVersion.set(a.version, [...(byVersion.get(a.version) ?? []), a.alias]);
    const history = await aliasHistory(deps.db, name, 100);
    res.json({
      model: name,
      aliases: Object.fromEntries(aliases.map((a) => [a.alias, { version: a.version, updatedAt: a.updatedAt, updatedBy: a.updatedBy, reason: a.reason }])),
      versions: versions.map((v) => versionView(v, byVersion.get(v.version) ?? [])),
      aliasHistory: history.map(({ alias, from, to, by, reason, at }) => ({ alias, from, to, by, reason, at })),
    });
  });

  r.post('/v1/models/:name/aliases/:alias', requireToken(deps.config.API_TOKEN), requireJson, async (req, res) => {
    const params = req.params as Record<string, string>;
    const name = checkName(params.name!);
    const alias = params.alias!;
    if (!ALIAS_NAME_PATTERN.test(alias)) throw new HttpError(400, 'invalid-alias', `alias ${JSON.stringify(alias.slice(0, 100))} must match ${ALIAS_NAME_PATTERN.source}`, [{ field: 'alias', rule: 'pattern', message: `must match ${ALIAS_NAME_PATTERN.source}` }]);
    const body = parseBody(aliasBodySchema, req.body);
    try {
      const { from, changed } = await setAlias(deps.db, name, alias, body.version, { by: body.by ?? 'api', reason: body.reason, ...(body.expect !== undefined ? { expect: body.expect } : {}) });
      // This process follows at once; the others within MODEL_POLL_MS.
      if (name === deps.config.MODEL_NAME && alias === PRODUCTION_ALIAS) await deps.models.refresh();
      const now = await getAlias(deps.db, name, alias);
      res.json({ model: name, alias, version: body.version, from, changed, updatedAt: now?.updatedAt ?? null, serving: name === deps.config.MODEL_NAME ? (deps.models.current()?.version ?? null) : null });
    } catch (err) {
      if (err instanceof VersionNotFoundError) throw new HttpError(404, 'version-not-found', err.message, [{ field: 'version', rule: 'exists', message: err.message }]);
      if (err instanceof AliasConflictError) throw new HttpError(409, 'alias-conflict', `${err.message}: someone moved it first; reload and retry`, { expected: err.expected, actual: err.actual });
      throw err;
    }
  });
  return r;
}
