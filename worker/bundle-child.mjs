// Bundles the workflow code (webpack, through the Temporal SDK) in a process of its own and writes
// the bundle to stdout: `node worker/bundle-child.mjs <workflows/index.ts>`. The worker reads it
// (worker/worker.ts): bundling in the worker itself left ~100 MB of webpack in its memory for life.
import { bundleWorkflowCode } from '@temporalio/worker';

const quiet = { trace() {}, debug() {}, info() {}, log() {}, warn: (m) => console.error(m), error: (m) => console.error(m) };
const { code } = await bundleWorkflowCode({ workflowsPath: process.argv[2], logger: quiet });
process.stdout.write(code);
