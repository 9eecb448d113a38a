import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueDbName } from '../helpers/stack';
import type { RunningApi } from '../../api/server';
import { call, startTestApi, USER } from './api-harness';

let api: RunningApi;

describe('an API over an empty database', () => {
  beforeAll(async () => {
    ({ api } = await startTestApi(uniqueDbName(import.meta.url)));
  });
  afterAll(async () => api?.close());

  it('when a user is scored before any model exists, then 503 no-model says what to do', async () => {
    for (const r of [await call(`${api.url}/v1/predict`, { body: USER }), await call(`${api.url}/v1/predict/batch`, { raw: 'user_id,first_open,screen_list\n', type: 'text/csv' })]) {
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('no-model');
      expect(r.json.error.message).toContain('retail24 train');
    }
  });

  it('when readiness is asked, then 503 with the model check failing and the stores up', async () => {
    const r = await call(`${api.url}/readyz`);
    expect(r.status).toBe(503);
    expect(r.json.checks).toMatchObject({ mongodb: { ok: true }, model: { ok: false } });
    expect((await call(`${api.url}/healthz`)).status).toBe(200);
  });

  it('when models are listed, then the list is empty', async () => {
    expect((await call(`${api.url}/v1/models`)).json).toEqual({ models: [] });
  });

  it.each(['/', '/runs', '/models', '/drift', '/predict'])('when page %s is opened, then it renders a clear "no model yet" / empty state', async (path) => {
    const r = await call(`${api.url}${path}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.text).toMatch(/No model yet|No runs yet/);
  });

  it('when an unknown route is asked, then 404 JSON', async () => {
    const r = await call(`${api.url}/v2/nothing`);
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('not-found');
  });
});
