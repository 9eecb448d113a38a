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
  // glibc malloc settings for a process that allocates and frees arrays of tens to hundreds of MB
  // (bench/ingest-worker.ts, 200,000 users, grid phase): two arenas instead of up to 8 per core, one
  // per busy thread, each keeping what was freed into it (692 -> 633 MB); and a fixed mmap threshold
  // of 128 KB, so every array from there up is its own mapping, given back when freed (by default
  // the threshold rises to the largest block freed, up to 32 MB, and blocks below it come from the
  // heap, which kept 303 MB at a million users: 570 -> 515 MB). A value in the environment wins.
  const child = spawn(process.execPath, [`--max-old-space-size=${WORKER_HEAP_MB}`, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', ...process.env },
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
