import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { uniqueDbName } from '../helpers/stack';
import { hasChromium, launchBrowser, warnIfNoChromium } from '../helpers/browser';
import { connectStore, type Store } from '../../store/db';
import { patchRun } from '../../store/runs';
import type { RunningApi } from '../../api/server';
import type { Config } from '../../config';
import type { ModelVersionDoc } from '../../store/registry';
import { ingestUsers, readUsers, registerFixtureModel, DRIFT_CSV, SAMPLE_CSV } from '../../testkit/model-fixture';
import { startTestApi, TOKEN } from '../api/api-harness';

const SHOTS = 'test-artifacts/screenshots';
warnIfNoChromium('browser test');

const XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';
let store: Store;
let api: RunningApi;
let config: Config;
let browser: Browser;
let page: Page;
let v1: ModelVersionDoc;
const pageErrors: string[] = [];

async function open(path: string, shot: string) {
  const res = await page.goto(`${api.url}${path}`);
  await page.screenshot({ path: `${SHOTS}/${shot}.png`, fullPage: true });
  return res;
}

describe.skipIf(!hasChromium)('status pages in headless Chromium against a real stack', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ({ api, config } = await startTestApi(uniqueDbName(import.meta.url)));
    store = await connectStore(config.MONGODB_URI!, config.MONGODB_DB);
    const users = await readUsers(SAMPLE_CSV);
    v1 = await registerFixtureModel(store.db, { modelName: config.MODEL_NAME, nEstimators: 30, maxDepth: 8 }, users);
    await registerFixtureModel(store.db, { modelName: config.MODEL_NAME, nEstimators: 20, maxDepth: 5, seed: 3, promote: false }, users);
    await patchRun(store.db, v1.runId, { reason: XSS });
    await ingestUsers(store.db, await readUsers(DRIFT_CSV, 1500));
    await api.models.refresh();
    ({ browser, page } = await launchBrowser(pageErrors));
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await store?.db.dropDatabase().catch(() => undefined);
    await store?.close();
  });

  it('when the overview opens, then it shows the production version, its metrics and the monitor panel', async () => {
    const res = await open('/', 'overview');
    expect(res?.status()).toBe(200);
    await expect(page.locator('main').innerText()).resolves.toContain(`Version v${v1.version}`);
    expect(await page.locator('.kpi').count()).toBeGreaterThanOrEqual(6);
    await expect(page.locator('main').innerText()).resolves.toMatch(/Monitor/);
  });

  it('when a run reason holds markup, then it is shown as text and never executed', async () => {
    await open('/runs', 'runs');
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    await expect(page.locator('main').innerText()).resolves.toContain('<script>window.__xss = 1</script>');
  });

  it('when a run detail opens, then the grid table, confusion matrix and three SVG charts render', async () => {
    const res = await open(`/runs/${encodeURIComponent(v1.runId)}`, 'run-detail');
    expect(res?.status()).toBe(200);
    expect(await page.locator('svg').count()).toBe(3); // ROC, PR, importances
    expect(await page.locator('svg polyline').count()).toBe(2);
    await expect(page.locator('table.confusion').innerText()).resolves.toContain(`TP ${v1.confusion.tp}`);
  });

  it('when the models page opens, then both versions and the alias history are listed, and a wrong token is refused', async () => {
    await open('/models', 'models');
    expect(await page.locator('main table').first().locator('tr').count()).toBe(3);
    await page.fill('input[name=reason]', 'browser test');
    await page.fill('input[name=token]', 'not-the-token');
    await page.selectOption('select[name=version]', '2');
    const [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(res?.status()).toBe(403);
    await page.screenshot({ path: `${SHOTS}/models-wrong-token.png`, fullPage: true });
    await expect(page.locator('section.error').innerText()).resolves.toContain('token');
  });

  it('when the right token moves production, then the page says so and the API serves the new version', async () => {
    await page.goto(`${api.url}/models`);
    await page.fill('input[name=reason]', 'promote from the browser');
    await page.fill('input[name=token]', TOKEN);
    await page.selectOption('select[name=version]', '2');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    await page.screenshot({ path: `${SHOTS}/models-promoted.png`, fullPage: true });
    await expect(page.locator('section.flash').innerText()).resolves.toContain('production moved from v1 to v2');
    expect(api.models.current()?.version).toBe(2);
  });

  it('when the drift page opens, then PSI bars with the 0.1 / 0.25 bands and per-feature histograms render', async () => {
    await open('/drift', 'drift');
    const text = await page.locator('main').innerText();
    // The monitor's drift sample: the newest day of users outside production's training set.
    expect(text).toMatch(/Current: the newest \d+ users outside its training set \(\d+\.\d days of first opens/);
    expect(await page.locator('svg').count()).toBeGreaterThan(10);
    expect(text).toContain('0.25 major shift');
  });

  it('when one user is scored from the predict form, then the probability, decision and the exact reason show', async () => {
    await open('/predict', 'predict');
    await page.fill('input[name=user_id]', 'browser-1');
    await Promise.all([page.waitForNavigation(), page.click('form[action="/predict"] button')]);
    await page.screenshot({ path: `${SHOTS}/predict-result.png`, fullPage: true });
    const text = await page.locator('main').innerText();
    expect(text).toMatch(/User browser-1: probability 0\.\d{4}/);
    expect(text).toContain('Why: the features that moved this score');
    expect(await page.locator('table.explain tr').count()).toBeGreaterThan(1);
  });

  it('when the pages were used, then no script error was raised', () => {
    expect(pageErrors).toEqual([]);
  });
});
