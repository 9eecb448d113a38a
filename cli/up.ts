import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalStack } from '../stack/local-stack';
import { loadConfig } from '../config';
import { parseArgs, strFlag } from './args';
import { CliContext } from './context';
import { startChild, waitHttpOk, type Child } from './processes';
import { ingestViaWorkflow, startTraining } from '../client/pipeline';
import { parseAsOf } from './as-of';
import { readMapping } from './ingest';
import { statusReport } from './status-report';
import { ensureMonitor } from '../client/monitor';
import { ensureScoreSchedule, scoreNow } from '../client/scoring';
import { TRIGGERS, type PipelineProgress } from '../common/workflow-types';
import { getAlias } from '../store/registry';
import { PRODUCTION_ALIAS } from '../common/constants';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The API token: API_TOKEN if set, else one generated once and kept under the data dir. */
function apiToken(dataDir: string, env: NodeJS.ProcessEnv): string {
  if (env.API_TOKEN) return env.API_TOKEN;
  const file = join(dataDir, 'api-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

/**
 * `retail24 up [--once] [--json] [--sample FILE [--mapping m.json] [--as-of TIME]]`: starts (or connects to) Temporal and MongoDB,
 * starts worker and API, ingests the bundled sample, trains and promotes when there is no
 * production model or the sample brought new data, prints the URLs and the token, then serves
 * until Ctrl-C (`--once`: prints the status and stops what it started).
 */
export async function upCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { once: 'boolean', json: 'boolean', sample: 'string', mapping: 'string', 'as-of': 'string' });
  const json = args.flags.json === true;
  const say = (m: string) => (json ? process.stderr.write(m + '\n') : console.log(m));
  const base = loadConfig(process.env);
  const dataDir = resolve(ROOT, base.DATA_DIR);
  const sample = resolve(strFlag(args, 'sample') ?? join(ROOT, 'sample', 'users.csv'));
  if (!existsSync(sample)) throw new Error(`sample file ${sample} not found`);
  const mappingPath = strFlag(args, 'mapping');
  const mapping = mappingPath ? await readMapping(mappingPath) : undefined;
  const asOf = parseAsOf(strFlag(args, 'as-of'), mapping);

  const stack = await startLocalStack({ root: ROOT, dataDir, env: process.env, log: say, handleSignals: false });
  const children: Child[] = [];
  let ctx: CliContext | null = null;
  const shutdown = async () => {
    await ctx?.close();
    for (const c of children.reverse()) await c.stop();
    await stack.stop();
  };
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      MONGODB_URI: stack.mongoUri,
      API_TOKEN: apiToken(dataDir, process.env),
      ...(stack.temporalUiUrl ? { TEMPORAL_UI_URL: stack.temporalUiUrl } : {}),
    };
    ctx = new CliContext(env, json);
    const config = ctx.config;
    const logDir = join(dataDir, 'logs');
    children.push(startChild(ROOT, 'worker', env, logDir));
    const api = startChild(ROOT, 'api', env, logDir);
    children.push(api);
    const apiUrl = `http://${config.HOST}:${config.PORT}`;
    await waitHttpOk(`${apiUrl}/healthz`, api, 60_000);
    say(`worker and API started (logs: ${logDir})`);

    const db = await ctx.db();
    const client = await ctx.temporal();
    say(`ingesting ${sample} …`);
    const ingest = await ingestViaWorkflow(client, db, config, sample, mapping, asOf);
    say(`ingest: ${ingest.read} rows read, ${ingest.inserted} inserted, ${ingest.updated} updated, ${ingest.rejected} rejected, ${ingest.pending} pending at ${ingest.asOf}${ingest.alreadyIngested ? ' (already ingested)' : ''}`);
    const hasProduction = (await getAlias(db, config.MODEL_NAME, PRODUCTION_ALIAS)) !== null;
    const newData = !ingest.alreadyIngested && ingest.inserted + ingest.updated > 0;
    if (!hasProduction || newData) {
      const handle = await startTraining(client, config, TRIGGERS.up, hasProduction ? 'new data from the bundled sample' : 'first model from the bundled sample');
      say(`training pipeline ${handle.workflowId} started${stack.temporalUiUrl ? ` (${stack.temporalUiUrl}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/${handle.workflowId})` : ''}`);
      const ticker = setInterval(async () => {
        const p = await handle.query<PipelineProgress>('progress').catch(() => null);
        if (p) say(`  ${p.stage}${p.cellsTotal ? ` — cells ${p.cellsDone}/${p.cellsTotal}` : ''}${p.bestSoFar ? `, best ${p.bestSoFar.cellKey} = ${p.bestSoFar.score.toFixed(3)}` : ''}`);
      }, 3000);
      try {
        const r = await handle.result();
        say(`model v${r.version.version}: ROC AUC ${r.version.metrics.roc_auc?.toFixed(3)}, recall ${r.version.metrics.recall?.toFixed(3)}, precision ${r.version.metrics.precision?.toFixed(3)} at threshold ${r.selection.threshold.threshold.toFixed(3)}; ${r.promotion.promoted ? 'promoted to production' : 'not promoted'}: ${r.promotion.reason}`);
      } finally {
        clearInterval(ticker);
      }
    } else {
      say('production model exists and the sample brought no new data: no retrain');
    }
    await ensureMonitor(client, config);
    const schedule = await ensureScoreSchedule(client, config);
    const scored = await scoreNow(client, config, 'up');
    say(`scored ${scored.written} users with v${scored.version ?? '∅'} (${scored.skipped} already scored); schedule ${schedule.scheduleId} every ${config.SCORE_INTERVAL_S} s`);
    await waitHttpOk(`${apiUrl}/readyz`, api, 30_000);
    say(`\nAPI:         ${apiUrl}   (POST ${apiUrl}/v1/predict)\nStatus page: ${apiUrl}/\nTemporal UI: ${stack.temporalUiUrl ?? '(external Temporal: see its own UI)'}\nAPI token:   ${env.API_TOKEN}`);
    if (args.flags.once) {
      const report = await statusReport(db, client, config);
      console.log(JSON.stringify(report, null, json ? 0 : 2));
      return report.production ? 0 : 1;
    }
    say('\nserving; press Ctrl-C to stop');
    await new Promise<void>((res) => {
      process.once('SIGINT', res);
      process.once('SIGTERM', res);
      for (const c of children) void c.exited.then(() => res());
    });
    return 0;
  } finally {
    say('stopping …');
    await shutdown();
  }
}
