import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { makeSyntheticData } from '../../../testkit/synthetic';
import { fitRandomForest } from '../../../ml/forest';
import { poolState, threadCap } from '../../../ml/thread-pool';
import { CalibratedModel } from '../../../ml/calibrated';
import { PARALLEL_PREDICT_ROWS } from '../../../ml/forest-pool';

const run = promisify(execFile);

describe('forest training threads', () => {
  it('when run under `node --import tsx` with 2 threads, then workers start and results equal an in-process fit', async () => {
    const script = fileURLToPath(new URL('./fixtures/fit-threads.ts', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { cwd: fileURLToPath(new URL('../../..', import.meta.url)) });
    const child = JSON.parse(stdout) as { warnings: string[]; proba: number[] };
    const { X, y } = makeSyntheticData(600, 8, 7);
    const local = await fitRandomForest(X, y, { nEstimators: 8, nThreads: 1, seed: 3 });
    // no warning means no fallback: the trees really came from worker threads
    expect(child.warnings).toEqual([]);
    expect(child.proba).toEqual(Array.from(local.predictProba(X).slice(0, 50)));
  }, 60_000);

  it('when run under vitest with 2 threads, then no fallback warning is raised and progress reaches the total', async () => {
    const { X, y } = makeSyntheticData(600, 8, 7);
    const warnings: string[] = [];
    const progress: number[] = [];
    await fitRandomForest(X, y, { nEstimators: 6, nThreads: 2 }, { onWarning: (w) => warnings.push(w), onProgress: (done) => progress.push(done) });
    expect(warnings).toEqual([]);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
  }, 60_000);

  it('when pooled workers serve a second fit on other data, then it equals an in-process fit of that data', async () => {
    const first = makeSyntheticData(500, 8, 1);
    const second = makeSyntheticData(700, 7, 2);
    await fitRandomForest(first.X, first.y, { nEstimators: 4, nThreads: 2 });
    const pooled = await fitRandomForest(second.X, second.y, { nEstimators: 6, nThreads: 2 });
    const local = await fitRandomForest(second.X, second.y, { nEstimators: 6, nThreads: 1 });
    expect(Array.from(pooled.predictProba(second.X))).toEqual(Array.from(local.predictProba(second.X)));
  }, 60_000);

  // Two fits at once (two grid cells on one worker) asked for two threads each: four threads on
  // two cores, each with a workspace of its fit's rows. Now the second waits for the first's.
  it('when three fits ask for threads at once, then no more than one per core are handed out and each fit equals its in-process fit', async () => {
    const data = [1, 2, 3].map((seed) => makeSyntheticData(800, 8, seed));
    let most = 0;
    let queued = 0;
    const watch = setInterval(() => { const s = poolState(); most = Math.max(most, s.busy); queued = Math.max(queued, s.waiting); }, 1);
    const fits = await Promise.all(data.map((d) => fitRandomForest(d.X, d.y, { nEstimators: 30, nThreads: 2 })));
    clearInterval(watch);
    expect(most).toBeLessThanOrEqual(threadCap());
    if (threadCap() <= 2) expect(queued).toBeGreaterThan(0); // on two cores the later fits waited
    expect(poolState()).toMatchObject({ busy: 0, waiting: 0 });
    for (const [i, d] of data.entries()) {
      const local = await fitRandomForest(d.X, d.y, { nEstimators: 30, nThreads: 1 });
      expect(Array.from(fits[i]!.predictProba(d.X))).toEqual(Array.from(local.predictProba(d.X)));
    }
  }, 60_000);

  // The API scores a large array on two cores: the second half of the rows on a forest thread.
  it('when a batch is scored with predictProbaAsync (split with a thread above the size bound, calibrated or not), then every score equals predictProba\'s, bit for bit', async () => {
    const { X, y } = makeSyntheticData(2001, 8, 5);
    const forest = await fitRandomForest(X, y, { nEstimators: 25, maxDepth: 9, seed: 4 });
    const calibrated = new CalibratedModel(forest, { kind: 'platt', a: -3.1, b: 1.2, n: 100 });
    for (const rows of [PARALLEL_PREDICT_ROWS - 1, PARALLEL_PREDICT_ROWS, 2001]) {
      const part = { data: X.data.subarray(0, rows * X.cols), rows, cols: X.cols };
      expect(Array.from(await forest.predictProbaAsync(part))).toEqual(Array.from(forest.predictProba(part)));
      expect(Array.from(await calibrated.predictProbaAsync(part))).toEqual(Array.from(calibrated.predictProba(part)));
      // the API makes a large batch's matrix in shared memory: the thread reads its half in place
      const shared = new Float64Array(new SharedArrayBuffer(rows * X.cols * 8));
      shared.set(part.data);
      expect(Array.from(await forest.predictProbaAsync({ data: shared, rows, cols: X.cols }))).toEqual(Array.from(forest.predictProba(part)));
    }
    expect(poolState()).toMatchObject({ busy: 0, waiting: 0 });
  }, 60_000);

  for (const nThreads of [1, 2]) {
    it(`when the signal aborts during a fit with nThreads=${nThreads}, then the fit rejects with the signal's reason`, async () => {
      const { X, y } = makeSyntheticData(600, 8, 7);
      const ac = new AbortController();
      const fit = fitRandomForest(X, y, { nEstimators: 200, nThreads }, {
        signal: ac.signal,
        onProgress: (done) => { if (done === 2) ac.abort(new Error('stop requested')); },
      });
      await expect(fit).rejects.toThrow('stop requested');
    }, 60_000);
  }
});
