#!/usr/bin/env node
// The `retail24` command. Sources are TypeScript run through tsx (see docs/decisions.md).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * Heap cap of the `worker` command. Uncapped, V8 lets an ingest's garbage grow the worker past
 * 600 MB RSS on a roomy machine; capped, a 1M-user ingest stays under the 500 MB of issue 3
 * (bench/ingest-worker.ts). Training fits under it because snapshots are typed columns and the
 * matrices are ArrayBuffers, outside the V8 heap. An explicit --max-old-space-size wins.
 */
const WORKER_HEAP_MB = 256;
const HEAP_FLAG = /--max-old-space-size[= ]/;

if (process.argv[2] === 'worker' && !HEAP_FLAG.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) {
  // V8 reads the heap limit at start-up only, so the worker re-executes itself with the flag.
  // The IPC channel tells the child when this parent is gone, even after a SIGKILL (crash tests,
  // a killed `up`): the child then exits at once, as the worker process would have.
  // Two malloc arenas (glibc makes up to 8 per core, one per busy thread; each keeps the memory
  // freed into it): 60 MB less worker RSS through a 200,000-user pipeline (bench/ingest-worker.ts).
  // A value already in the environment wins.
  const child = spawn(process.execPath, [`--max-old-space-size=${WORKER_HEAP_MB}`, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { MALLOC_ARENA_MAX: '2', ...process.env },
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
  });
} else {
  if (process.argv[2] === 'worker' && process.channel) {
    process.channel.unref();
    process.once('disconnect', () => process.exit(1));
  }
  // Imported here, not at the top, so the re-executing parent stays a bare Node process.
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../cli/main.ts');
  // bench/ sits above the product (it imports it, never the other way): the entry point composes them.
  const extra = { bench: async () => (await import('../bench/cli.ts')).benchCommand };
  process.exitCode = await main(process.argv.slice(2), extra);
}
