import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Db } from 'mongodb';
import { uniqueDbName } from '../helpers/stack';
import { hasChromium, launchBrowser, warnIfNoChromium } from '../helpers/browser';
import { readUsers, registerFixtureModel, SAMPLE_CSV } from '../../testkit/model-fixture';
import { startTestApi } from '../api/api-harness';
import { connectStore, type Store } from '../../store/db';
import { COLLECTIONS } from '../../store/collections';
import { finishBatch, openBatch, recordValidation } from '../../store/batches';
import { writeUserChunk } from '../../store/users';
import { getAudience, saveAudience } from '../../store/audiences';
import { loadVersion } from '../../store/model-loader';
import type { ModelVersionDoc } from '../../store/registry';
import { createScoringActivities } from '../../activities/scoring';
import { ECE_BINS, holdoutSample, scoreQuantiles } from '../../activities/evaluation';
import { reliabilityCurve } from '../../ml/calibration';
import { transformBatch } from '../../data/features';
import type { UserRecord } from '../../data/record';
import { audienceFigures, productionPopulation, savedAudienceStats, type Population } from '../../client/audiences';
import { audienceFormat } from '../../api/routes/pages-audiences';
import type { RunningApi } from '../../api/server';
import type { Config } from '../../config';

const SHOTS = 'test-artifacts/screenshots';
warnIfNoChromium('browser test');

/** sample/users.csv holds 10,000 valid users (sample/README.md), each scored once. */
const SAMPLE_USERS = 10_000;
const SAVED = { name: 'top-20', rule: { kind: 'top_percent', percent: 20 } as const, description: 'Retargeting: the top fifth by probability' };

let store: Store;
let api: RunningApi;
let config: Config;
let browser: Browser;
let page: Page;
let noJs: BrowserContext;
let pop: Population;
let noScores: { status: number | undefined; text: string };
const pageErrors: string[] = [];

/**
 * The fixture model records no holdout evidence; give it what the training pipeline records
 * (activities/evaluation.ts): the holdout sample, reliability bins and score quantiles.
 */
async function recordHoldout(db: Db, v: ModelVersionDoc, users: UserRecord[]): Promise<void> {
  const labelled = users.filter((u) => u.label !== null);
  const hold = labelled.slice(Math.floor(labelled.length * 0.8)); // the fixture's holdout: the last 20 % by position
  const m = (await loadVersion(db, v.modelName, v.version))!;
  const p = m.model.predictProba({ data: transformBatch(m.spec, hold), rows: hold.length, cols: m.spec.names.length });
  const y = Uint8Array.from(hold, (u) => u.label ?? 0);
  await db.collection<ModelVersionDoc>(COLLECTIONS.modelVersions).updateOne({ _id: v._id },
    { $set: { holdoutSample: holdoutSample(p, y), reliability: reliabilityCurve(y, p, ECE_BINS), scoreQuantiles: scoreQuantiles(p) } });
}

/** Stores the sample as one finished batch observed at its latest event, so "today" is its last day. */
async function ingestAtLatestEvent(db: Db, users: UserRecord[]): Promise<void> {
  const asOf = users.reduce((m, u) => Math.max(m, u.firstOpen, u.purchaseDate ?? 0), 0);
  const batchId = `batch-${Date.now()}`;
  const now = new Date();
  await openBatch(db, { _id: batchId, fileName: 'users.csv', uploadId: batchId, bytes: 0, checksum: batchId, mappingHash: null, timezone: 'UTC' }, now);
  await recordValidation(db, batchId, { read: users.length, rejected: 0, superseded: 0, asOf, asOfSource: 'latest-in-file' });
  for (let i = 0; i < users.length; i += 1000) await writeUserChunk(db, batchId, users.slice(i, i + 1000), now, asOf);
  await finishBatch(db, batchId, undefined, now);
}

/** The scoring activities as the scoreNewUsers workflow calls them, in an activity context. */
async function scoreEveryone(db: Db): Promise<void> {
  const acts = createScoringActivities({ db, config, workerIdentity: 'audiences-page-test' });
  const env = new MockActivityEnvironment();
  const run = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...a: A) => env.run(fn, ...a) as Promise<R>;
  const modelName = config.MODEL_NAME;
  const plan = await run(acts.planScoring, { modelName });
  for (let job = 0; job < plan.jobs; job++) await run(acts.scoreJob, { modelName, version: plan.version!, planId: plan.planId!, job, cutoffs: plan.cutoffs ?? {} });
  if (plan.planId) await run(acts.finishScoring, { planId: plan.planId });
}

const text = (p: Page, selector: string) => p.locator(selector).first().innerText();
/** The summary as written: its first letter is capitalised by CSS only, which innerText applies. */
const summary = async (p: Page) => (await p.locator('#summary').textContent())?.trim();
const num = (s: string) => Number(s.replace(/,/g, ''));

async function shot(p: Page, name: string) {
  await p.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

describe.skipIf(!hasChromium)('the audiences page in headless Chromium against a real stack', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ({ api, config } = await startTestApi(uniqueDbName(import.meta.url)));
    store = await connectStore(config.MONGODB_URI!, config.MONGODB_DB);
    ({ browser, page } = await launchBrowser(pageErrors));
    noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });

    const users = await readUsers(SAMPLE_CSV);
    const v = await registerFixtureModel(store.db, { modelName: config.MODEL_NAME, nEstimators: 20, maxDepth: 8 }, users);
    await recordHoldout(store.db, v, users);
    await ingestAtLatestEvent(store.db, users);
    // saved before scoring, so the scoring run decides every user's membership
    await saveAudience(store.db, { ...SAVED, modelName: config.MODEL_NAME, by: 'test' });
    const res = await page.goto(`${api.url}/audiences`);
    noScores = { status: res?.status(), text: await text(page, 'main') };
    await shot(page, 'audiences-no-scores');

    await scoreEveryone(store.db);
    pop = await productionPopulation(store.db, config.MODEL_NAME);
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await store?.db.dropDatabase().catch(() => undefined);
    await store?.close();
  });

  it('when production has scored nobody yet, then the page says why with a 409 instead of failing', () => {
    expect(noScores.status).toBe(409);
    expect(noScores.text).toContain('has scored no users yet');
    expect(noScores.text).toContain(SAVED.name);
  });

  it('when the page opens, then the summary, figures, charts and saved audience show the top 10 % of the scored population', async () => {
    const res = await page.goto(`${api.url}/audiences`);
    await shot(page, 'audiences');
    expect(res?.status()).toBe(200);
    const fig = audienceFigures(pop, { kind: 'top_percent', percent: 10 });
    expect(pop.curve.n).toBe(SAMPLE_USERS);
    expect(await text(page, '#summary')).toContain('top 10 % (1,000 users)');
    const buyers = await text(page, '#expected-buyers');
    expect(buyers).toBe(audienceFormat.count(fig.expected.expectedBuyers));
    expect(num(buyers)).toBeCloseTo(fig.expected.expectedBuyers, 1);
    expect(await text(page, '#observed-ci')).toMatch(/^95 % CI \d+\.\d–\d+\.\d %$/);
    expect(await text(page, 'main')).toContain(`Production v${pop.version}`);
    // gains beside the figures; histogram, lift by decile and reliability below
    expect(await page.locator('main svg').count()).toBe(4);

    const stats = await savedAudienceStats(store.db, pop, (await getAudience(store.db, SAVED.name))!);
    expect(stats.today.members).toBeGreaterThan(0); // the sample's last day holds a few hundred users
    expect(stats.yesterday.matured).toBeGreaterThan(0);
    const row = page.locator('#saved tr', { hasText: SAVED.name });
    const cells = await row.locator('td').allInnerTexts();
    expect(cells.slice(0, 3)).toEqual([SAVED.name, 'top 20 %', SAVED.description]);
    expect(cells[3]).toBe(audienceFormat.count(stats.figures.expected.size));
    expect(cells[6]).toBe(audienceFormat.count(stats.today.members));
    expect(cells[8]).toBe(audienceFormat.count(stats.yesterday.matured));
    expect(cells[10]).toContain(audienceFormat.pct(stats.yesterday.conversion));
  });

  it('when the slider moves with JavaScript on, then the figures follow without a reload', async () => {
    await page.goto(`${api.url}/audiences`);
    await page.evaluate(() => { (globalThis as { __samePage?: number }).__samePage = 1; });
    await page.locator('#size-range').focus();
    for (let i = 0; i < 15; i++) await page.keyboard.press('ArrowRight'); // 10 → 25, one step per key
    await page.locator('#summary', { hasText: 'top 25 %' }).waitFor();
    await shot(page, 'audiences-slider');
    const fig = audienceFigures(pop, { kind: 'top_percent', percent: 25 });
    expect(await text(page, '#expected-buyers')).toBe(audienceFormat.count(fig.expected.expectedBuyers));
    expect(await summary(page)).toBe(fig.summary);
    expect(await page.locator('#size-box').inputValue()).toBe('25');
    expect(await page.evaluate(() => (globalThis as { __samePage?: number }).__samePage)).toBe(1);
    expect(new URL(page.url()).search).toBe('?top=25%25');
    // the gains chart's cut line moved to a quarter of the plot
    const marker = page.locator('g.marker[data-at="expected.share"]');
    const span = Number(await marker.getAttribute('data-span'));
    expect(await marker.getAttribute('transform')).toBe(`translate(${(0.25 * span).toFixed(1)} 0)`);
  });

  it('when JavaScript is off, then ?top=25% is rendered on the server and the size form still works', async () => {
    const p = await noJs.newPage();
    const res = await p.goto(`${api.url}/audiences?top=25%25`);
    await p.click('details summary'); // the decile table opens without script too
    await shot(p, 'audiences-nojs');
    expect(await p.locator('details table tr').count()).toBe(11);
    expect(res?.status()).toBe(200);
    const fig = audienceFigures(pop, { kind: 'top_percent', percent: 25 });
    expect(await summary(p)).toBe(fig.summary);
    expect(num(await text(p, '#expected-buyers'))).toBeCloseTo(fig.expected.expectedBuyers, 1);
    // typing in the number box (the slider still says 25) and submitting: the changed value wins
    await p.fill('#size-box', '5');
    const [nav] = await Promise.all([p.waitForNavigation(), p.click('#size-form button[type=submit]')]);
    await shot(p, 'audiences-nojs-form');
    expect(nav?.status()).toBe(200);
    const five = audienceFigures(pop, { kind: 'top_percent', percent: 5 });
    expect(await summary(p)).toBe(five.summary);
    expect(await text(p, '#expected-buyers')).toBe(audienceFormat.count(five.expected.expectedBuyers));
    await p.close();
  });

  it('when the size cannot be read, then the page shows the reason with a 400 and the default audience', async () => {
    const res = await page.goto(`${api.url}/audiences?kind=top_percent&percent=140`);
    await shot(page, 'audiences-error');
    expect(res?.status()).toBe(400);
    expect(res?.headers()['content-type']).toContain('text/html');
    expect(await text(page, 'section.error')).toContain('percent must be in (0, 100], got 140');
    expect(await text(page, '#summary')).toContain('top 10 %');
  });

  it('when the pages were used, then no script error was raised', () => {
    expect(pageErrors).toEqual([]);
  });
});
