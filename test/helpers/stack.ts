import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { inject } from 'vitest';

/** Addresses of the stack started by test/global-setup.ts for the integration project. */
export interface TestStack {
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiUrl: string | null;
  mongoUri: string;
}

/**
 * The running test stack. Only tests outside test/unit get one (see vitest.config.ts).
 * @throws Error when called from a unit test, where no stack is started.
 */
export function testStack(): TestStack {
  const temporalAddress = inject('temporalAddress');
  if (!temporalAddress) {
    throw new Error('testStack(): no stack in this project; integration tests live outside test/unit');
  }
  return {
    temporalAddress,
    temporalNamespace: inject('temporalNamespace'),
    temporalUiUrl: inject('temporalUiUrl'),
    mongoUri: inject('mongoUri'),
  };
}

/**
 * A MongoDB database name unique to one test file (or one call), so files running in parallel
 * against the shared server never see each other's documents. Pass `import.meta.url` or a label.
 * Names stay within `[A-Za-z0-9_-]{1,60}`, what config's MONGODB_DB and FerretDB accept.
 */
export function uniqueDbName(label: string): string {
  const base = path.basename(label.replace(/^file:\/\//, '')).replace(/\.test\.ts$|\.ts$/, '');
  const slug = base.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 'db';
  return `t_${slug}_${randomBytes(4).toString('hex')}`;
}

/**
 * No scoring run after an ingest or a promotion: for files that read no scores (a scoring run is
 * a full read and write of the users); test/workflows/scoring.test.ts keeps both on.
 */
export const NO_AUTO_SCORING = { SCORE_ON_INGEST: 'false', SCORE_ON_PROMOTION: 'false' } as const;

/**
 * Environment for config.ts's loadConfig() pointing at the test stack and a fresh database, with
 * a model name of its own (`m_<dbName>`).
 * @param overrides extra variables, e.g. `{ TASK_QUEUE: 'q-' + id }` to isolate a worker.
 */
export function testEnv(dbName: string, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const s = testStack();
  return {
    ...process.env,
    TEMPORAL_ADDRESS: s.temporalAddress,
    TEMPORAL_NAMESPACE: s.temporalNamespace,
    ...(s.temporalUiUrl ? { TEMPORAL_UI_URL: s.temporalUiUrl } : {}),
    MONGODB_URI: s.mongoUri,
    MONGODB_DB: dbName,
    // Workflow and schedule ids are named after the model (monitor-<model>, score-<model>), and
    // every file shares one Temporal namespace: a model name per database keeps files running at
    // the same time from signalling each other's workflows.
    MODEL_NAME: `m_${dbName}`,
    // warnings and errors only: a line per request or activity would bury the test output
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...overrides,
  };
}
