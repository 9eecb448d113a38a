import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Client } from '@temporalio/client';
import { uniqueDbName } from '../helpers/stack';
import { connectStore, type Store } from '../../store/db';
import { apiOnlyOutcomes } from '../../store/outcomes';
import { connectClient } from '../../client/connection';
import { monitorWorkflowId } from '../../common/constants';
import type { RunningApi } from '../../api/server';
import type { Config } from '../../config';
import { registerFixtureModel, readUsers, SAMPLE_CSV } from '../../testkit/model-fixture';
import { call, startTestApi, TOKEN, USER } from './api-harness';

const dbName = uniqueDbName(import.meta.url);
let store: Store;
let api: RunningApi;
let config: Config;
let temporal: Client;
/** What the API logged (pino JSON lines), captured instead of stderr. */
const logged: { level: number; msg: string; req?: { id: string; method: string; url: string }; res?: { statusCode: number } }[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });

describe('scoring API over HTTP against the MongoDB-protocol server', () => {
  beforeAll(async () => {
    ({ api, config } = await startTestApi(dbName, { BATCH_MAX_BYTES: '65536', PREDICT_MAX_BATCH: '50' }, logger));
    store = await connectStore(config.MONGODB_URI!, dbName);
    const users = await readUsers(SAMPLE_CSV);
    await registerFixtureModel(store.db, { modelName: config.MODEL_NAME, nEstimators: 10, maxDepth: 6 }, users);
    await registerFixtureModel(store.db, { modelName: config.MODEL_NAME, nEstimators: 10, maxDepth: 4, seed: 7, promote: false }, users);
    await api.models.refresh();
    temporal = await connectClient(config);
  });
  afterAll(async () => {
    await temporal?.workflow.getHandle(monitorWorkflowId(config.MODEL_NAME)).terminate('test done').catch(() => undefined);
    await temporal?.connection.close();
    await api?.close();
    await store?.db.dropDatabase().catch(() => undefined);
    await store?.close();
  });

  it('when one user is posted, then it gets a probability, the decision at the threshold and the version', async () => {
    const r = await call(`${api.url}/v1/predict`, { body: USER });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ user_id: 'u1', model: { name: config.MODEL_NAME, version: 1 } });
    expect(r.json.probability).toBeGreaterThanOrEqual(0);
    expect(r.json.probability).toBeLessThanOrEqual(1);
    expect(r.json.decision).toBe(r.json.probability >= r.json.model.threshold);
    expect(r.json.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('each request is logged once with the id the response returns; a caller\'s X-Request-Id is kept; a 400 is a warning', async () => {
    const r = await call(`${api.url}/v1/predict`, { body: USER });
    expect(r.headers.get('x-request-id')).toBe(r.json.requestId);
    await expect.poll(() => logged.filter((l) => l.req?.id === r.json.requestId).length).toBe(1);
    const line = logged.find((l) => l.req?.id === r.json.requestId)!;
    expect(line).toMatchObject({ level: 30, msg: 'request completed', req: { method: 'POST', url: '/v1/predict' }, res: { statusCode: 200 } });
    const res = await fetch(`${api.url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'campaign-42.batch-7' }, body: JSON.stringify({ user_id: 'u2' }) });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toBe('campaign-42.batch-7');
    await expect.poll(() => logged.find((l) => l.req?.id === 'campaign-42.batch-7')?.level).toBe(40);
  });

  it('when an array is posted, then each user is scored like the single call, bit for bit', async () => {
    // the array goes through the model's batch path (one matrix), the single call through the row path
    const screens = ['home', 'home,product_details,cart,checkout', 'cart,cart,shopping_cart', 'product_details,search', ''];
    const users = Array.from({ length: 20 }, (_, i) => ({ ...USER, user_id: `b${i}`, age: 18 + 3 * i, screen_list: screens[i % screens.length]!, first_open: `2026-03-0${1 + (i % 7)} ${String(i).padStart(2, '0')}:15:00` }));
    const singles = await Promise.all(users.map((u) => call(`${api.url}/v1/predict`, { body: u })));
    const r = await call(`${api.url}/v1/predict`, { body: [...users, { ...USER, user_id: 7, age: null }] });
    expect(r.status).toBe(200);
    expect(r.json.predictions).toHaveLength(21);
    expect(new Set(singles.map((x) => x.json.probability)).size).toBeGreaterThan(1);
    users.forEach((_, i) => {
      expect(r.json.predictions[i].probability).toBe(singles[i]!.json.probability);
      expect(r.json.predictions[i].percentile).toBe(singles[i]!.json.percentile);
      expect(r.json.predictions[i].decision).toBe(singles[i]!.json.decision);
    });
    expect(r.json.predictions[20].user_id).toBe('7');
  });

  it('when explain=true, then each score carries its exact attribution: expected value + contributions = the raw forest score', async () => {
    const plain = await call(`${api.url}/v1/predict`, { body: USER });
    const r = await call(`${api.url}/v1/predict?explain=true`, { body: USER });
    expect(r.status).toBe(200);
    expect(r.json.probability).toBe(plain.json.probability);
    const ex = r.json.explanation;
    expect(ex.method).toBe('tree-shap-path-dependent');
    // the fixture model is uncalibrated, so its probability is the raw forest score the attribution adds up to
    expect(Math.abs(ex.raw_score - r.json.probability)).toBeLessThan(1e-9);
    expect(ex.top.length).toBeGreaterThan(0);
    expect(ex.top.length).toBeLessThanOrEqual(8);
    const mags = ex.top.map((t: { contribution: number }) => Math.abs(t.contribution));
    expect([...mags].sort((a, b) => b - a)).toEqual(mags);
    expect(plain.json.explanation).toBeUndefined();
    const many = await call(`${api.url}/v1/predict?explain=true`, { body: Array.from({ length: 21 }, (_, i) => ({ ...USER, user_id: `e${i}` })) });
    expect(many.status).toBe(413);
    expect(many.json.error.code).toBe('too-many-to-explain');
    const bad = await call(`${api.url}/v1/predict?explain=maybe`, { body: USER });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/^explain/);
    const arr = await call(`${api.url}/v1/predict?explain=true`, { body: [USER, { ...USER, user_id: 'u2' }] });
    expect(arr.json.predictions.every((p: { explanation?: unknown }) => p.explanation !== undefined)).toBe(true);
  });

  it.each([
    ['an unknown field', { ...USER, colour: 'red' }, 400, 'unknown-field', 'colour'],
    ['a wrong type', { ...USER, age: 'old' }, 400, 'invalid-field', 'age'],
    ['a missing field', { user_id: 'u1', screen_list: '' }, 400, 'invalid-field', 'first_open'],
    ['a bad element of an array', [USER, { ...USER, first_open: 'yesterday' }], 400, 'invalid-field', '[1].first_open'],
    ['a JSON string', 'hello', 400, 'invalid-json', ''],
    ['too many users', Array.from({ length: 51 }, () => USER), 413, 'too-many-users', '51'],
  ])('when the body has %s, then a 4xx JSON error names it', async (_what, body, status, code, mention) => {
    const r = await call(`${api.url}/v1/predict`, { body });
    expect(r.status).toBe(status);
    expect(r.json.error.code).toBe(code);
    expect(r.json.error.message).toContain(mention);
    expect(r.text).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('when the body is not JSON, then 400 invalid-json or 415, never 500', async () => {
    expect((await call(`${api.url}/v1/predict`, { raw: '{"user_id":' })).json.error.code).toBe('invalid-json');
    expect((await call(`${api.url}/v1/predict`, { raw: 'user_id=1', type: 'application/x-www-form-urlencoded' })).status).toBe(415);
    const huge = await call(`${api.url}/v1/predict`, { raw: JSON.stringify({ user_id: 'x'.repeat(3_000_000) }) });
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBe('body-too-large');
  });

  // The plain JSON form of POST /v1/predict is answered before Express (api/fast-predict.ts); any
  // other spelling of the content type takes the Express route. Both must answer every body alike.
  it.each([
    ['one user', JSON.stringify(USER), ''],
    ['an array', JSON.stringify([USER, { ...USER, user_id: 'u2', age: null }]), ''],
    ['explain=true', JSON.stringify(USER), '?explain=true'],
    ['a bad explain', JSON.stringify(USER), '?explain=maybe'],
    ['two explain values', JSON.stringify(USER), '?explain=true&explain=false'],
    ['an unknown field', JSON.stringify({ ...USER, colour: 'red' }), ''],
    ['an empty array', '[]', ''],
    ['too many users', JSON.stringify(Array.from({ length: 51 }, () => USER)), ''],
    ['a JSON string', '"hello"', ''],
    ['broken JSON', '{"user_id":', ''],
    ['an empty body', '', ''],
    ['a byte-order mark', `\ufeff${JSON.stringify(USER)}`, ''],
  ])('when %s is posted as application/json and with a charset, then both answers are the same', async (_what, raw, query) => {
    const fast = await call(`${api.url}/v1/predict${query}`, { raw });
    const viaExpress = await call(`${api.url}/v1/predict${query}`, { raw, type: 'application/json; charset=utf-8' });
    expect(fast.status).toBe(viaExpress.status);
    expect(fast.headers.get('content-type')).toBe(viaExpress.headers.get('content-type'));
    const strip = (j: { requestId?: string; error?: { code: string; message: string } }) => (j.error ? { code: j.error.code } : { ...j, requestId: undefined });
    expect(strip(fast.json)).toEqual(strip(viaExpress.json));
    if (fast.json.requestId) expect(fast.headers.get('x-request-id')).toBe(fast.json.requestId);
  });

  it('when a body over the limit is posted on the fast path, declared or streamed, then 413 body-too-large', async () => {
    const big = JSON.stringify({ user_id: 'x'.repeat(2_200_000) });
    const declared = await call(`${api.url}/v1/predict`, { raw: big });
    expect([declared.status, declared.json.error.code]).toEqual([413, 'body-too-large']);
    // no content-length: the limit is found while reading
    const streamed = await fetch(`${api.url}/v1/predict`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, duplex: 'half',
      body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close(); } }),
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe('body-too-large');
  });

  describe('auth on mutating endpoints', () => {
    const body = { version: 1, reason: 'auth test' };
    it('when no token is sent, then 401 JSON', async () => {
      const r = await call(`${api.url}/v1/models/${config.MODEL_NAME}/aliases/production`, { body });
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe('unauthorized');
    });
    it('when a wrong token is sent, then 403 JSON', async () => {
      for (const token of ['wrong', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
        const r = await call(`${api.url}/v1/outcomes`, { body: { user_id: 'a', purchase_date: '2026-03-01 21:00:00' }, token });
        expect(r.status).toBe(403);
        expect(r.json.error.code).toBe('forbidden');
      }
    });
    it('when the right token is sent, then the call goes through', async () => {
      const r = await call(`${api.url}/v1/models/${config.MODEL_NAME}/aliases/production`, { body, token: TOKEN });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ version: 1, changed: false });
    });
  });

  it('when a CSV is uploaded, then good rows are scored and bad rows keep their line and reason', async () => {
    const csv = 'user_id,first_open,screen_list,age\nu1,2026-03-01 20:15:00,"home,product_details,cart,checkout",31\nu2,nope,home,20\nu3,2026-03-01 10:00:00,,130\n';
    const r = await call(`${api.url}/v1/predict/batch`, { raw: csv, type: 'text/csv' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-model-version')).toBe('1');
    const lines = r.text.trim().split('\n');
    expect(lines[0]).toBe('line,user_id,probability,decision,error');
    const single = await call(`${api.url}/v1/predict`, { body: USER });
    expect(lines[1]).toBe(`2,u1,${single.json.probability},${single.json.decision ? 1 : 0},`);
    expect(lines[2]).toMatch(/^3,,,,.*bad-timestamp.*first_open/);
    expect(lines[3]).toMatch(/^4,,,,.*age-out-of-range/);
  });

  it('when an uploaded user id is a spreadsheet formula, then the scored CSV carries it as text', async () => {
    const csv = 'user_id,first_open,screen_list\n"=HYPERLINK(""http://evil"",""x"")",2026-03-01 20:15:00,home\n@SUM(A1),2026-03-01 20:15:00,home\n-7,2026-03-01 20:15:00,home\n';
    const r = await call(`${api.url}/v1/predict/batch`, { raw: csv, type: 'text/csv' });
    expect(r.status).toBe(200);
    const cells = (parseCsv(r.text) as string[][]).slice(1).map((row) => row[1]);
    // A leading ' makes a spreadsheet show the cell as text; a plain number is no formula and stays.
    expect(cells).toEqual(['\'=HYPERLINK("http://evil","x")', "'@SUM(A1)", '-7']);
  });

  it('when the CSV is unusable, then a 4xx JSON error says why', async () => {
    const missing = await call(`${api.url}/v1/predict/batch`, { raw: 'user_id,screen_list\nu1,home\n', type: 'text/csv' });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toMatchObject({ code: 'missing-column' });
    expect(missing.json.error.message).toContain('first_open');
    const binary = await call(`${api.url}/v1/predict/batch`, { raw: Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 1]), type: 'text/csv' });
    expect(binary.json.error.code).toBe('not-csv');
    const json = await call(`${api.url}/v1/predict/batch`, { body: USER });
    expect(json.status).toBe(415);
    const big = await call(`${api.url}/v1/predict/batch`, { raw: `user_id,first_open,screen_list\n${'u,2026-03-01 10:00:00,home\n'.repeat(5000)}`, type: 'text/csv' });
    expect(big.status).toBe(413); // BATCH_MAX_BYTES is 64 KiB in this file
  });

  it('when models are listed, then the registered model shows its production alias and versions', async () => {
    const list = await call(`${api.url}/v1/models`);
    expect(list.json.models).toEqual([{ name: config.MODEL_NAME, latestVersion: 2, aliases: { production: 1 } }]);
    const versions = await call(`${api.url}/v1/models/${config.MODEL_NAME}/versions`);
    expect(versions.json.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(versions.json.versions[1].aliases).toEqual(['production']);
    expect((await call(`${api.url}/v1/models/NoSuchModel/versions`)).status).toBe(404);
  });

  it('when outcomes are posted, then live confusion of the served version counts them', async () => {
    const twoDaysAgo = Date.now() - 48 * 3600_000;
    const users = ['o1', 'o2', 'o3'].map((id) => ({ ...USER, user_id: id, first_open: twoDaysAgo }));
    const scored = await call(`${api.url}/v1/predict`, { body: users });
    const r = await call(`${api.url}/v1/outcomes`, { body: [{ user_id: 'o1', purchase_date: twoDaysAgo + 3600_000 }], token: TOKEN });
    expect(r.status).toBe(202);
    // o1 is not a stored user (it was only scored), so no stored label is resolved.
    expect(r.json).toEqual({ received: 1, written: 1, resolved: 0 });
    await api.predictionLog.flush();
    // The data's time here is the wall clock (no batch observed anything later): every window closed.
    const now = Date.now();
    const live = await apiOnlyOutcomes(store.db, { modelName: config.MODEL_NAME, version: 1, from: twoDaysAgo - 3600_000, to: now - 24 * 3600_000, now, skip: new Set() });
    // o1 bought within 24 h (a 1); o2 and o3 did not and their windows closed while outcomes were being reported (0s).
    const byUser = new Map<string, { decision: boolean }>(['o1', 'o2', 'o3'].map((id, i) => [id, scored.json.predictions[i]]));
    expect(live.sourceActive).toBe(true);
    const labelOf = Object.fromEntries(live.userIds.map((id, i) => [id, live.y[i]]));
    expect(labelOf).toEqual({ o1: 1, o2: 0, o3: 0 });
    live.userIds.forEach((id, i) => expect(live.decision[i]).toBe(byUser.get(id)!.decision));
    const bad = await call(`${api.url}/v1/outcomes`, { body: { user_id: 'o1', purchase_date: 'soon' }, token: TOKEN });
    expect(bad.json.error.message).toContain('purchase_date');
  });

  it('when a retrain is requested, then the monitor workflow is signalled', async () => {
    const r = await call(`${api.url}/v1/retrain`, { body: { reason: 'api test', requestedBy: 'vitest' }, token: TOKEN });
    expect(r.status).toBe(202);
    expect(r.json.signalled).toBe(monitorWorkflowId(config.MODEL_NAME));
    const desc = await temporal.workflow.getHandle(r.json.signalled).describe();
    expect(desc.status.name).toBe('RUNNING');
  });

  it('when /metrics is scraped, then it has request counts, latency histograms, predictions by version and load time', async () => {
    const r = await call(`${api.url}/metrics`);
    expect(r.headers.get('content-type')).toContain('text/plain');
    expect(r.text).toMatch(/retail24_http_requests_total\{method="POST",route="\/v1\/predict",status="200"\} \d+/);
    expect(r.text).toMatch(/retail24_http_request_duration_seconds_bucket\{(?=[^}]*method="POST")(?=[^}]*route="\/v1\/predict")(?=[^}]*le="\+Inf")[^}]*\} \d+/);
    // prom-client's default process metrics
    expect(r.text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(r.text).toContain('nodejs_eventloop_lag_seconds');
    expect(r.text).toMatch(new RegExp(`retail24_predictions_total\\{model="${config.MODEL_NAME}",version="1"\\} \\d+`));
    expect(r.text).toMatch(/retail24_model_load_seconds\{.*\} [\d.e-]+/);
  });

  it('when /readyz is asked, then MongoDB, Temporal and the model are reported ready', async () => {
    const r = await call(`${api.url}/readyz`);
    expect(r.status).toBe(200);
    expect(r.json.checks).toMatchObject({ mongodb: { ok: true }, temporal: { ok: true }, model: { ok: true } });
  });

  it('when /openapi.json is fetched, then it documents every endpoint', async () => {
    const r = await call(`${api.url}/openapi.json`);
    expect(r.json.openapi).toMatch(/^3\./);
    for (const p of ['/v1/predict', '/v1/predict/batch', '/v1/outcomes', '/v1/models', '/v1/models/{name}/versions', '/v1/models/{name}/aliases/{alias}', '/v1/retrain', '/healthz', '/readyz', '/metrics']) {
      expect(r.json.paths).toHaveProperty([p]);
    }
  });
});
