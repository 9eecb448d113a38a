import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { makeSyntheticData } from '../../../testkit/synthetic';
import { fitRandomForest } from '../../../ml/forest';

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
