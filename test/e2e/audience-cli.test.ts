import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config';
import { connectStore, type Store } from '../../store/db';
import { getAudience } from '../../store/audiences';
import { createScoringActivities } from '../../activities/scoring';
import type { ScoringPlan } from '../../common/workflow-types';
import { testEnv, uniqueDbName } from '../helpers/stack';
import { ingestUsers, readUsers, registerFixtureModel, SAMPLE_CSV } from '../../testkit/model-fixture';

/** `retail24 audience` as a marketer's engineer runs it: a real process against the test database. */
const BIN = fileURLToPath(new URL('../../bin/retail24.mjs', import.meta.url));
const dbName = uniqueDbName(import.meta.url);
const env = testEnv(dbName);
const tmp = mkdtempSync(join(tmpdir(), 'retail24-audience-cli-'));
let store: Store;
let scored = 0;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [BIN, 'audience', ...args], { env })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));
}

beforeAll(async () => {
  const config = loadConfig(env);
  store = await connectStore(config.MONGODB_URI!, dbName);
  const users = await readUsers(SAMPLE_CSV, 2000);
  await registerFixtureModel(store.db, { modelName: config.MODEL_NAME, nEstimators: 10, maxDepth: 6 });
  await ingestUsers(store.db, users, 'b1');
  const acts = createScoringActivities({ db: store.db, config, workerIdentity: 'test' });
  const mock = new MockActivityEnvironment();
  const plan: ScoringPlan = await mock.run(acts.planScoring, { modelName: config.MODEL_NAME });
  for (let job = 0; job < plan.jobs; job++) await mock.run(acts.scoreJob, { modelName: config.MODEL_NAME, version: plan.version!, planId: plan.planId!, job, cutoffs: {} });
  await mock.run(acts.finishScoring, { planId: plan.planId! });
  scored = plan.users;
}, 120_000);

afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('retail24 audience (CLI)', () => {
  it('--top 10% --out prints the figures as JSON and writes exactly the audience to the CSV', async () => {
    const out = join(tmp, 'top10.csv');
    const r = await cli('--top', '10%', '--out', out, '--json');
    expect(r.code).toBe(0);
    const figures = JSON.parse(r.stdout);
    expect(scored).toBe(2000);
    expect(figures).toMatchObject({ label: 'top 10 %', population: scored, written: Math.ceil(0.1 * scored) });
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(rows[0]).toBe('user_id,probability,percentile,first_open,window_closes_at,window_open');
    expect(rows).toHaveLength(1 + Math.ceil(0.1 * scored));
    const p = rows.slice(1).map((l) => Number(l.split(',')[1]));
    expect(Math.min(...p)).toBe(figures.threshold);
  });

  it('--save stores the rule, and the saved name exports only open windows as JSON lines with --open', async () => {
    const saved = await cli('--top', '500', '--save', 'top500', '--description', 'cli test');
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain('saved as top500');
    expect((await getAudience(store.db, 'top500'))?.rule).toEqual({ kind: 'top_n', n: 500 });
    const out = join(tmp, 'open.jsonl');
    const r = await cli('top500', '--open', '--out', out);
    expect(r.code).toBe(0);
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(rows.length).toBeLessThanOrEqual(500);
    expect(rows.every((x) => x.window_open === true)).toBe(true);
  });

  it.each([
    [['--top', '120%'], 'percent must be in (0, 100], got 120'],
    [['--top', '0'], 'n must be an integer'],
    [['--recall', '1'], 'recall must be in (0, 1)'],
    [['--top', '10%', '--recall', '0.9'], 'give one of --top, --recall, --precision'],
    [['nope'], 'no saved audience named "nope"'],
    [[], 'usage: retail24 audience'],
  ])('bad input %j exits 2 with one line naming it', async (args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
