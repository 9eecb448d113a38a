/**
 * Where one tree's time goes: grows trees single-threaded with ml/forest-core.ts on the training
 * bench's synthetic data (40 features, depth 12, mtry 6, bootstrap) and reports
 *  - wall time per tree (median of the timed trees, after warm-up trees the JIT settles on), and
 *  - V8's line-level sample counts inside buildTree (self time per source line, with the line's
 *    text, from the type-stripped core that ran), so the histogram pass, the partition, the
 *    bootstrap and the split scan can be read off.
 * It also hashes the grown trees, so a rewrite of the core can show that it grows the same trees.
 *
 *   npx tsx bench/forest-profile.ts [--rows 200000] [--trees 10] [--json]
 *
 * Writes bench/results/forest-profile-<date>-<rows>.json. Run it at two commits (a git worktree of
 * the older one) to put a before/after breakdown side by side; bench/README.md has one.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import type { CoreParams, TreeArrays } from '../ml/forest-core';
import { quantize } from '../ml/quantize';
import { makeSyntheticData } from '../testkit/synthetic';
import { boolFlag, intFlag, scriptArgs } from '../cli/args';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ML = fileURLToPath(new URL('../ml/', import.meta.url));
const FEATURES = 40;
const WARMUP = 3;

interface ProfileNode {
  callFrame: { functionName: string; url: string };
  hitCount?: number;
  positionTicks?: { line: number; ticks: number }[];
}

function hashTrees(trees: TreeArrays[]): string {
  const h = createHash('sha256');
  for (const t of trees) for (const a of [t.feature, t.threshold, t.left, t.value]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex').slice(0, 16);
}

type Core = typeof import('../ml/forest-core');

/**
 * The core and its one runtime import, type-stripped line for line into a temporary directory:
 * tsx's loader emits a module V8 sees as one line, which would put every sample on line 1.
 */
async function loadCoreForProfile(): Promise<{ core: Core; source: string[]; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'retail24-forest-profile-'));
  let source: string[] = [];
  for (const name of ['rng', 'forest-core']) {
    const js = ts.transpileModule(readFileSync(join(ML, `${name}.ts`), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, removeComments: false } })
      .outputText.replace("from './rng'", "from './rng.mjs'");
    writeFileSync(join(dir, `${name}.mjs`), js);
    if (name === 'forest-core') source = js.split('\n');
  }
  return { core: (await import(pathToFileURL(join(dir, 'forest-core.mjs')).href)) as Core, source, dir };
}

export async function runForestProfile(rows: number, trees: number): Promise<Record<string, unknown>> {
  const { core, source, dir } = await loadCoreForProfile();
  const { buildTree, createWorkspace } = core;
  const data = makeSyntheticData(rows, FEATURES, 1);
  const q = quantize(data.X, 255, 42);
  const params: CoreParams = { maxDepth: 12, minSamplesSplit: 2, minSamplesLeaf: 1, mtry: Math.round(Math.sqrt(FEATURES)), bootstrap: true, classWeight: [1, 1], seed: 42 };
  // the third argument (row stride) is ignored by a core that keeps codes column-major
  const ws = (createWorkspace as (r: number, c: number, s?: number) => ReturnType<typeof createWorkspace>)(q.rows, q.cols, (q as { stride?: number }).stride);
  for (let t = 0; t < WARMUP; t++) buildTree(q, data.y, params, t, ws);
  const grown: TreeArrays[] = [];
  const ms: number[] = [];
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  for (let t = 0; t < trees; t++) {
    const t0 = performance.now();
    grown.push(buildTree(q, data.y, params, t, ws));
    ms.push(performance.now() - t0);
  }
  const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] } };
  session.disconnect();
  const usPerSample = (profile.endTime - profile.startTime) / profile.samples.length;
  rmSync(dir, { recursive: true, force: true });
  const perLine = new Map<number, number>();
  let coreTicks = 0;
  let allTicks = 0;
  for (const node of profile.nodes) {
    allTicks += node.hitCount ?? 0;
    if (node.callFrame.functionName !== 'buildTree' || !node.callFrame.url.endsWith('forest-core.mjs')) continue;
    for (const p of node.positionTicks ?? []) {
      perLine.set(p.line, (perLine.get(p.line) ?? 0) + p.ticks);
      coreTicks += p.ticks;
    }
  }
  const perTree = (ticks: number) => Math.round(((ticks * usPerSample) / 1000 / trees) * 100) / 100;
  const lines = [...perLine.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([line, ticks]) => ({ line, ms_per_tree: perTree(ticks), share: Math.round((ticks / coreTicks) * 1000) / 1000, source: (source[line - 1] ?? '').trim().slice(0, 120) }));
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    startedAt: new Date().toISOString(),
    loadavg: loadavg(),
    dataset: { rows, features: FEATURES, depth: 12, mtry: params.mtry, trees_timed: trees, warmup_trees: WARMUP },
    ms_per_tree_median: Math.round(sorted[Math.floor(sorted.length / 2)]! * 10) / 10,
    ms_per_tree: ms.map((x) => Math.round(x * 10) / 10),
    trees_sha256: hashTrees(grown),
    profile: { sample_us: Math.round(usPerSample), build_tree_ms_per_tree: perTree(coreTicks), profiled_ms_per_tree: perTree(allTicks), lines },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = scriptArgs({ rows: 'string', trees: 'string', json: 'boolean' }, 'bench/forest-profile.ts [--rows 200000] [--trees 10] [--json]');
  const rows = intFlag(args, 'rows', 200_000, 1000, 10_000_000);
  const result = await runForestProfile(rows, intFlag(args, 'trees', 10, 1, 1000));
  mkdirSync(`${ROOT}bench/results`, { recursive: true });
  writeFileSync(`${ROOT}bench/results/forest-profile-${String(result.startedAt).slice(0, 10)}-${rows}.json`, `${JSON.stringify(result, null, 2)}\n`);
  if (boolFlag(args, 'json')) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const p = result.profile as { lines: { line: number; ms_per_tree: number; share: number; source: string }[] };
    process.stdout.write(`${rows} rows: ${String(result.ms_per_tree_median)} ms per tree (median), trees sha256 ${String(result.trees_sha256)}\n`);
    for (const l of p.lines.slice(0, 25)) process.stdout.write(`${String(l.ms_per_tree).padStart(7)} ms ${(l.share * 100).toFixed(1).padStart(5)} %  L${l.line}  ${l.source}\n`);
  }
}
