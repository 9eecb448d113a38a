import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startLocalStack, type LocalStack } from '../stack/local-stack';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    temporalUiUrl: string | null;
    mongoUri: string;
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Starts a private stack for the integration project: a fresh temp data dir and free ports, so
 * a run never touches `.data/` and can run beside `retail24 up`. TEMPORAL_ADDRESS / MONGODB_URI
 * from the shell are deliberately ignored (a developer's `up` settings must not point tests at
 * real data); RETAIL24_TEST_TEMPORAL_ADDRESS / RETAIL24_TEST_MONGODB_URI opt in to external servers.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'retail24-test-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: '', MONGODB_URI: '', TEMPORAL_UI_URL: '' };
  if (process.env.RETAIL24_TEST_TEMPORAL_ADDRESS) env.TEMPORAL_ADDRESS = process.env.RETAIL24_TEST_TEMPORAL_ADDRESS;
  if (process.env.RETAIL24_TEST_MONGODB_URI) env.MONGODB_URI = process.env.RETAIL24_TEST_MONGODB_URI;

  // The servers are Go programs and the suite is bound by FerretDB's CPU, much of it garbage
  // collection of decoded documents. A FerretDB scanning 10,000 users 15 times: 31.0 CPU-s at Go's
  // default, 21.5–24.0 at GOGC=400, 19.1 at 1000; peak RSS 86, 153, 293 MB (docs/decisions.md).
  // 400, not 1000: a fresh-clone CI run took 310 s of vitest at 400 and 363 s at 1000 (one run
  // each on a shared machine: no gain shown for twice the memory). The servers inherit this
  // process's environment; `npm run up` keeps Go's default.
  process.env.GOGC ??= '400';
  const t0 = Date.now();
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      root,
      dataDir,
      env,
      freePorts: true,
      log: (line) => process.stderr.write(`[test stack] ${line}\n`),
    });
  } catch (err) {
    keepLogs(dataDir);
    throw err;
  }
  process.stderr.write(
    `[test stack] ready in ${((Date.now() - t0) / 1000).toFixed(1)}s: temporal ${stack.temporalAddress}, mongo ${stack.mongoUri}\n`,
  );
  project.provide('temporalAddress', stack.temporalAddress);
  project.provide('temporalNamespace', stack.temporalNamespace);
  project.provide('temporalUiUrl', stack.temporalUiUrl);
  project.provide('mongoUri', stack.mongoUri);

  return async () => {
    await stack.stop();
    keepLogs(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}

/** Service logs outlive the temp dir under test-artifacts/ (git-ignored) for post-mortems in CI. */
function keepLogs(dataDir: string): void {
  const from = path.join(dataDir, 'logs');
  if (!fs.existsSync(from)) return;
  const to = path.join(root, 'test-artifacts', 'stack-logs');
  fs.mkdirSync(to, { recursive: true });
  fs.cpSync(from, to, { recursive: true });
}
