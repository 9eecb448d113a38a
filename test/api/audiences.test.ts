import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueDbName } from '../helpers/stack';
import { connectStore, type Store } from '../../store/db';
import { COLLECTIONS } from '../../store/collections';
import type { ScoreDoc } from '../../store/scores';
import { dataTime } from '../../store/data-time';
import { createScoringActivities } from '../../activities/scoring';
import type { RunningApi } from '../../api/server';
import type { Config } from '../../config';
import type { ScoringPlan } from '../../common/workflow-types';
import { ingestUsers, readUsers, registerFixtureModel, SAMPLE_CSV } from '../../testkit/model-fixture';
import { call, startTestApi, TOKEN } from './api-harness';

/**
 * Audiences over HTTP on the real MongoDB-protocol server: figures that equal what the stored
 * scores say (recomputed here from the scores collection, not from the code under test), members
 * only with the token, exactly the audience even when its cut splits tied probabilities, `open=true` keeping reachable users, and a 400 naming
 * the field for every bad rule.
 */
const dbName = uniqueDbName(import.meta.url);
let store: Store;
let api: RunningApi;
let config: Config;
let n = 0;

async function scoreEveryone() {
  const acts = createScoringActivities({ db: store.db, config, workerIdentity: 'test' });
  const env = new MockActivityEnvironment();
  const plan: ScoringPlan = await env.run(acts.planScoring, { modelName: config.MODEL_NAME });
  for (let job = 0; job < plan.jobs; job++) await env.run(acts.scoreJob, { modelName: config.MODEL_NAME, version: plan.version!, planId: plan.planId!, job, cutoffs: plan.cutoffs ?? {} });
  await env.run(acts.finishScoring, { planId: plan.planId! });
  return plan.users;
}
/** The version's probabilities, highest first, straight from the collection. */
async function storedDescending(): Promise<ScoreDoc[]> {
  const all = await store.db.collection<ScoreDoc>(COLLECTIONS.scores).find({ modelName: config.MODEL_NAME, version: 1 }).toArray();
  return all.sort((a, b) => b.probability - a.probability || (a.userId < b.userId ? -1 : 1));
}

const ids = (xs: string[]) => [...xs].sort();

describe('audiences over HTTP', () => {
  beforeAll(async () => {
    ({ api, config } = await startTestApi(dbName));
    store = await connectStore(config.MONGODB_URI!, dbName);
    const users = await readUsers(SAMPLE_CSV);
    await registerFixtureModel(store.db, { modelName: config.MODEL_NAME, nEstimators: 10, maxDepth: 6 }, users);
    // stored as observed at the sample's cut, so some windows are still open at data time
    await ingestUsers(store.db, users.slice(0, 3000), 'b1');
  });
  afterAll(async () => {
    await api?.close();
    await store?.db.dropDatabase().catch(() => undefined);
    await store?.close();
  });

  it('before the production version has scored anyone, figures are 409 with the reason', async () => {
    const r = await call(`${api.url}/v1/audiences/preview?top=10%25`);
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe('no-scores');
    expect(r.json.error.message).toContain('scored no users');
    n = await scoreEveryone();
    expect(n).toBe(3000);
  });

  it('the top 10 % preview holds exactly ceil(10 % of N) users and the sum of their probabilities as expected buyers', async () => {
    const r = await call(`${api.url}/v1/audiences/preview?top=10%25`);
    expect(r.status).toBe(200);
    const stored = await storedDescending();
    const size = Math.ceil(0.1 * stored.length);
    const expectedBuyers = stored.slice(0, size).reduce((a, s) => a + s.probability, 0);
    const allBuyers = stored.reduce((a, s) => a + s.probability, 0);
    expect(r.json.expected.size).toBe(size);
    expect(r.json.expected.expectedBuyers).toBeCloseTo(expectedBuyers, 9);
    expect(r.json.expected.expectedNonBuyers).toBeCloseTo(size - expectedBuyers, 9);
    expect(r.json.expected.expectedRecall).toBeCloseTo(expectedBuyers / allBuyers, 9);
    expect(r.json.expected.lift).toBeCloseTo((expectedBuyers / size) / (allBuyers / stored.length), 9);
    expect(r.json.threshold).toBe(stored[size - 1]!.probability);
    // the holdout's observed side at the same share, with its size
    expect(r.json.observed.holdoutSize).toBeGreaterThan(0);
    expect(r.json.observed.precisionInterval[0]).toBeLessThanOrEqual(r.json.observed.observedPrecision);
    expect(r.json.summary).toContain('top 10 %');
  });

  it.each([
    ['kind=top_percent&percent=0', 'percent'],
    ['kind=top_percent&percent=120', 'percent'],
    ['top=0', 'n'],
    ['top=1.5', 'n'],
    ['kind=target_recall&recall=1', 'recall'],
    ['kind=min_precision&precision=0', 'precision'],
    ['kind=top_decile', 'kind'],
    ['', 'kind'],
  ])('a bad rule (%s) is a 400 naming %s', async (query, field) => {
    const r = await call(`${api.url}/v1/audiences/preview?${query}`);
    expect(r.status).toBe(400);
    expect(r.json.error.message.startsWith(field) || r.json.error.message.includes(`${field} must`)).toBe(true);
  });

  it('saving needs the token (401 without, 403 wrong), then creates (201) and replaces (200); bad bodies are 400', async () => {
    const body = { name: 'top10', rule: { kind: 'top_percent', percent: 10 }, description: 'daily push' };
    expect((await call(`${api.url}/v1/audiences`, { body })).status).toBe(401);
    expect((await call(`${api.url}/v1/audiences`, { body, token: 'wrong-token-0123456789' })).status).toBe(403);
    expect((await call(`${api.url}/v1/audiences`, { body, token: TOKEN })).status).toBe(201);
    expect((await call(`${api.url}/v1/audiences`, { body, token: TOKEN })).status).toBe(200);
    const bad = await call(`${api.url}/v1/audiences`, { body: { name: 'Bad Name', rule: { kind: 'top_n', n: 0 } }, token: TOKEN });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/^name|n must/);
  });

  it('members need the token and stream exactly the audience; open=true keeps users whose window is still open', async () => {
    expect((await call(`${api.url}/v1/audiences/top10/users`)).status).toBe(401);
    expect((await call(`${api.url}/v1/audiences/top10/users`, { token: 'wrong-token-0123456789' })).status).toBe(403);
    const r = await call(`${api.url}/v1/audiences/top10/users`, { token: TOKEN });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/csv');
    const lines = r.text.trimEnd().split('\n');
    expect(lines[0]).toBe('user_id,probability,percentile,first_open,window_closes_at,window_open');
    const stored = await storedDescending();
    const size = Math.ceil(0.1 * stored.length);
    expect(ids(lines.slice(1).map((l) => l.split(',')[0]))).toEqual(ids(stored.slice(0, size).map((s) => s.userId)));

    const asOf = (await dataTime(store.db))!;
    const openMembers = stored.slice(0, size).filter((s) => s.windowClosesAt > asOf).map((s) => s.userId);
    // the newest day's users are still inside their window, the rest not: both kinds are in the top 10 %
    expect(openMembers.length).toBeGreaterThan(0);
    expect(openMembers.length).toBeLessThan(size);
    const open = await call(`${api.url}/v1/audiences/top10/users?open=true&format=jsonl`, { token: TOKEN });
    const rows = open.text.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(ids(rows.map((x) => x.user_id))).toEqual(ids(openMembers));
    expect(rows.every((x) => x.window_open === true)).toBe(true);
  });

  it('an audience whose cut falls inside a group of tied probabilities takes exactly N: everyone above the tie, then the smallest user ids of it', async () => {
    // the naive export (every user at or above the cut's probability) returns the whole tie group
    const stored = await storedDescending();
    let cut = -1;
    for (let i = 10; i < stored.length - 1 && cut < 0; i++) if (stored[i]!.probability === stored[i + 1]!.probability && stored[i - 1]!.probability === stored[i]!.probability) cut = i;
    expect(cut, 'the fixture model (10 trees, isotonic calibration) gives tied probabilities').toBeGreaterThan(0);
    const nTop = cut + 1;
    const t = stored[cut]!.probability;
    const tiedAtCut = stored.filter((s) => s.probability === t).length;
    expect(stored.filter((s) => s.probability >= t).length).toBeGreaterThan(nTop);
    // storage order is the users' order, which here is also user-id order: rewrite the scores
    // in reverse so "the first ties the cursor meets" differs from "the smallest ids"
    const col = store.db.collection<ScoreDoc>(COLLECTIONS.scores);
    const docs = await col.find({}).toArray();
    await col.deleteMany({});
    await col.insertMany(docs.reverse());
    const r = await call(`${api.url}/v1/audiences/_/users?top=${nTop}&format=jsonl`, { token: TOKEN });
    expect(r.status).toBe(200);
    const rows = r.text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(nTop);
    expect(ids(rows.map((x) => x.user_id))).toEqual(ids(stored.slice(0, nTop).map((s) => s.userId)));
    expect(tiedAtCut).toBeGreaterThan(1);
  });

  it('the list shows each saved audience with today\'s members and yesterday\'s conversion; unknown names are 404; delete needs the token', async () => {
    const list = await call(`${api.url}/v1/audiences`);
    expect(list.status).toBe(200);
    expect(list.json.model).toMatchObject({ version: 1, scored: n });
    const top10 = list.json.audiences.find((a: { name: string }) => a.name === 'top10');
    expect(top10.label).toBe('top 10 %');
    expect(top10.today.members).toBeGreaterThanOrEqual(0);
    expect(top10.yesterday.matured).toBeLessThanOrEqual(top10.yesterday.members);
    expect((await call(`${api.url}/v1/audiences/nope`)).status).toBe(404);
    expect((await call(`${api.url}/v1/audiences/top10`, { method: 'DELETE' })).status).toBe(401);
    expect((await call(`${api.url}/v1/audiences/top10`, { method: 'DELETE', token: TOKEN })).status).toBe(204);
    expect((await call(`${api.url}/v1/audiences/top10`)).status).toBe(404);
  });
});
