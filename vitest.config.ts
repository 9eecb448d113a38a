import { defineConfig } from 'vitest/config';

// CI (and scripts/test.sh, which passes the same reporter on the command line) keeps a JSON
// report so the final "N passed, N failed" line is computed, not scraped from console output.
const reporters: ('default' | ['json', { outputFile: string }])[] = process.env.CI
  ? ['default', ['json', { outputFile: 'test-artifacts/vitest.json' }]]
  : ['default'];

/**
 * Two projects so that pure unit tests never pay for the stack: vitest runs a project's
 * globalSetup only when that project has test files in the run, so `vitest run test/unit`
 * starts no server. Everything outside test/unit gets a real Temporal dev server and a
 * MongoDB-protocol server from test/global-setup.ts.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    reporters,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
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
