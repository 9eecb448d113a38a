/**
 * Ingest benchmark (`retail24 bench ingest [--quick] [--json]`): rows/s and peak RSS of the
 * retail24 ingest activity (validation pass + checkpointed insert-first writes) beside a bare
 * `insertMany` loop over the same parsed rows, measured in the same run against the same server.
 *
 * Result, one object per size (also written to bench/results/ingest-<date>.json with run info):
 * `{"rows": N, "retail24": {"rows_per_s", "peak_rss_mb"}, "insertmany_baseline": {"rows_per_s", "peak_rss_mb"}}`.
 * `peak_rss_mb` is the measured process's VmHWM (each run is its own child process, so it is the
 * ingest's own peak, Node and driver included).
 *
 * Uses MONGODB_URI when set; else starts a private FerretDB/Temporal stack in a temp dir on free ports.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateToFiles } from '../data/generator';
import { startLocalStack, type LocalStack } from '../stack/local-stack';

export interface IngestBenchOptions {
  /** One small size (20k users) instead of 100k and 1M. @default false */
  quick?: boolean;
  /** @default [100_000, 1_000_000], or [20_000] when quick */
  sizes?: number[];
  /** @default 42 */
  seed?: number;
}

export interface IngestBenchRow {
  rows: number;
  retail24: { rows_per_s: number; peak_rss_mb: number };
  insertmany_baseline: { rows_per_s: number; peak_rss_mb: number };
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./ingest-child.ts', import.meta.url));
/**
 * V8 flags of both measured processes. Uncapped, V8 lets garbage (BSON buffers, parsed rows)
 * pile up on a roomy machine: a 1M-user ingest measured 644 MB peak RSS and the bare insertMany
 * loop 365 MB, while the live set stays under 100 MB (the reader's duplicate-id Map of 1M ids
 * peaks the reader alone at 174 MB RSS). A worker that must stay under 500 MB runs with this cap.
 */
export const WORKER_NODE_FLAGS = ['--max-old-space-size=256'];

interface ChildResult { rows: number; seconds: number; peak_rss_mb: number; upload_s?: number }

async function measure(kind: 'retail24' | 'insertmany', uri: string, csv: string, users: number): Promise<ChildResult> {
  const db = `bench_ingest_${kind}_${users}_${process.pid}`;
  const { stdout } = await promisify(execFile)(process.execPath, [...WORKER_NODE_FLAGS, '--import', 'tsx', CHILD, kind, uri, db, csv], { cwd: ROOT, maxBuffer: 1 << 20 });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
  if (r.rows !== users) throw new Error(`${kind} stored ${r.rows} of ${users} users`);
  return r;
}

/** Runs the benchmark; returns one row per size and writes bench/results/ingest-<date>.json. */
export async function runIngestBench(opts: IngestBenchOptions = {}): Promise<IngestBenchRow[]> {
  const sizes = opts.sizes ?? (opts.quick ? [20_000] : [100_000, 1_000_000]);
  for (const n of sizes) if (!Number.isInteger(n) || n < 1) throw new RangeError(`sizes must be positive integers, got ${n}`);
  const seed = opts.seed ?? 42;
  const tmp = mkdtempSync(join(tmpdir(), 'retail24-bench-ingest-'));
  let stack: LocalStack | null = null;
  try {
    let uri = process.env.MONGODB_URI;
    if (!uri) {
      stack = await startLocalStack({ root: ROOT, dataDir: join(tmp, 'stack'), freePorts: true, env: { ...process.env, TEMPORAL_ADDRESS: '' } });
      uri = stack.mongoUri;
    }
    const rows: IngestBenchRow[] = [];
    const details: Record<string, unknown>[] = [];
    for (const users of sizes) {
      const csv = join(tmp, `users-${users}.csv`);
      await generateToFiles({ users, seed, out: csv });
      // Baseline first, then retail24: neither run benefits from the other's warm server caches
      // more than the order would suggest (each uses a fresh database).
      const base = await measure('insertmany', uri, csv, users);
      const ours = await measure('retail24', uri, csv, users);
      rows.push({
        rows: users,
        retail24: { rows_per_s: Math.round(users / ours.seconds), peak_rss_mb: ours.peak_rss_mb },
        insertmany_baseline: { rows_per_s: Math.round(users / base.seconds), peak_rss_mb: base.peak_rss_mb },
      });
      details.push({ rows: users, csv_bytes: statSync(csv).size, retail24_seconds: ours.seconds, retail24_upload_seconds: ours.upload_s, insertmany_seconds: base.seconds });
      rmSync(csv, { force: true });
      rmSync(`${csv}.truth.csv`, { force: true });
    }
    const date = new Date().toISOString();
    const out = join(ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, `ingest-${date.slice(0, 10)}${opts.quick ? '-quick' : ''}.json`), `${JSON.stringify({
      bench: 'ingest', date, server: stack ? `local ${stack.started.join('+')}` : 'MONGODB_URI', seed, node: process.version,
      cpu: cpus()[0]?.model, cores: cpus().length, node_flags: WORKER_NODE_FLAGS, results: rows, details,
    }, null, 2)}\n`);
    return rows;
  } finally {
    await stack?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
