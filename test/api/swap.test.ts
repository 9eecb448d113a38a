import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { uniqueDbName } from '../helpers/stack';
import { connectStore, type Store } from '../../store/db';
import type { RunningApi } from '../../api/server';
import type { Config } from '../../config';
import { registerFixtureModel, readUsers, SAMPLE_CSV } from '../../testkit/model-fixture';
import { call, startTestApi, TOKEN, USER } from './api-harness';

const dbName = uniqueDbName(import.meta.url);
let store: Store;
let a: RunningApi;
let b: RunningApi;
let config: Config;

/** Keeps `concurrency` requests in flight against `urls` (round robin) until `stop()`; records every answer. */
function load(urls: string[], concurrency: number) {
  const seen: { url: string; status: number; version: number | null; at: number }[] = [];
  let running = true;
  let i = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const url = urls[i++ % urls.length]!;
      try {
        const r = await call(`${url}/v1/predict`, { body: USER });
        seen.push({ url, status: r.status, version: r.json?.model?.version ?? null, at: Date.now() });
      } catch {
        seen.push({ url, status: 0, version: null, at: Date.now() });
      }
    }
  });
  return { seen, async stop() { running = false; await Promise.all(loops); } };
}

async function until(pred: () => boolean, ms: number) {
  return vi.waitFor(() => { if (!pred()) throw new Error('not yet'); }, { timeout: ms, interval: 20 }).then(() => true, () => pred());
}

describe('the API follows the production alias under load, across processes', () => {
  beforeAll(async () => {
    ({ api: a, config } = await startTestApi(dbName));
    store = await connectStore(config.MONGODB_URI!, dbName);
    const users = await readUsers(SAMPLE_CSV);
    await registerFixtureModel(store.db, { modelName: config.MODEL_NAME, nEstimators: 10, maxDepth: 6 }, users);
    await registerFixtureModel(store.db, { modelName: config.MODEL_NAME, nEstimators: 30, maxDepth: 8, seed: 9, promote: false }, users);
    await a.models.refresh();
    ({ api: b } = await startTestApi(dbName));
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await store?.db.dropDatabase().catch(() => undefined);
    await store?.close();
  });

  it('when production is promoted and then rolled back during load, then no request fails and both processes converge', async () => {
    const traffic = load([a.url, b.url], 8);
    await until(() => traffic.seen.length > 100, 10_000);

    const promote = await call(`${a.url}/v1/models/${config.MODEL_NAME}/aliases/production`, { body: { version: 2, reason: 'promote under load', expect: 1 }, token: TOKEN });
    expect(promote.status).toBe(200);
    expect(promote.json).toMatchObject({ from: 1, changed: true, serving: 2 }); // the process that moved it swaps at once
    const promotedAt = Date.now();
    // MODEL_POLL_MS is 200 here: the other process must follow within a few polls.
    expect(await until(() => traffic.seen.some((s) => s.url === b.url && s.version === 2 && s.at > promotedAt), 5000)).toBe(true);
    await until(() => traffic.seen.filter((s) => s.at > promotedAt + 1000).length > 100, 10_000);

    const rollback = await call(`${b.url}/v1/models/${config.MODEL_NAME}/aliases/production`, { body: { version: 1, reason: 'roll back under load' }, token: TOKEN });
    expect(rollback.json).toMatchObject({ from: 2, changed: true, serving: 1 });
    const rolledAt = Date.now();
    expect(await until(() => traffic.seen.some((s) => s.url === a.url && s.version === 1 && s.at > rolledAt), 5000)).toBe(true);
    await until(() => traffic.seen.filter((s) => s.at > rolledAt + 1000).length > 100, 10_000);
    await traffic.stop();

    expect(traffic.seen.length).toBeGreaterThan(300);
    expect(traffic.seen.filter((s) => s.status !== 200)).toEqual([]);
    // Per process, versions move v1 -> v2 -> v1 and never flap back in between.
    for (const url of [a.url, b.url]) {
      const versions = traffic.seen.filter((s) => s.url === url).map((s) => s.version);
      const runs = versions.filter((v, i) => i === 0 || v !== versions[i - 1]);
      expect(runs).toEqual([1, 2, 1]);
    }
  });

  it('when a compare-and-set promotion expects a stale version, then 409 and the alias stays', async () => {
    const r = await call(`${a.url}/v1/models/${config.MODEL_NAME}/aliases/production`, { body: { version: 2, reason: 'stale', expect: 2 }, token: TOKEN });
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe('alias-conflict');
    const versions = await call(`${a.url}/v1/models/${config.MODEL_NAME}/versions`);
    expect(versions.json.aliases.production.version).toBe(1);
    expect(versions.json.aliasHistory.filter((h: { alias: string }) => h.alias === 'production').map((h: { to: number }) => h.to)).toEqual([1, 2, 1]);
  });
});
