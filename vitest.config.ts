import { defineConfig } from 'vitest/config';

// CI (and scripts/test.sh, which passes the same reporter on the command line) keeps a JSON
// report so the final "N passed, N failed" line is computed, not scraped from console output.
const reporters: ('default' | ['json', { outputFile: string }])[] = process.env.CI
  ? ['default', ['json', { outputFile: 'test-artifacts/vitest.json' }]]
  : ['default'];

/**
 * Test files run three at a time (RETAIL24_TEST_FORKS overrides). The integration files spend
 * most of their time waiting on the shared servers and their own worker processes, so on a 2-core
 * machine three forks took the suite from 677 s to 490 s (vitest's default is cores − 1 = 1 fork).
 * Files never share state: each has its own database, task queue and model name
 * (test/helpers/stack.ts).
 */
const forks = Number(process.env.RETAIL24_TEST_FORKS ?? 3);
if (!Number.isInteger(forks) || forks < 1) {
  throw new Error(`RETAIL24_TEST_FORKS: must be a whole number of test files at a time, 1 or more; got ${JSON.stringify(process.env.RETAIL24_TEST_FORKS)}`);
}

/**
 * Two projects so that pure unit tests never pay for the stack: vitest runs a project's
 * globalSetup only when that project has test files in the run, so `vitest run test/unit`
 * starts no server. Everything outside test/unit gets a real Temporal dev server and a
 * MongoDB-protocol server from test/global-setup.ts.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: forks,
    minWorkers: 1,
    reporters,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Pure tests on threads, lighter than forks (48.8 -> 41.3 CPU-s). Each file stays
          // isolated: vitest takes `isolate` from the command line only (a check with six files
          // counting on globalThis), which is how `npm test -- --fast` turns it off.
          pool: 'threads',
          // Beside three integration files a 20,000-user generator setup took 15 s in CI (2.7 s
          // alone): a bound for a loaded machine, not a speed check.
          hookTimeout: 60_000,
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', '**/node_modules/**'],
          globalSetup: ['test/global-setup.ts'],
          // Real servers, worker start-up and small training runs on a 2-core machine.
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
