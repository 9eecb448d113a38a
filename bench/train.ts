/**
 * Training benchmark (the engine's headline): retail24 vs ml-random-forest vs scikit-learn vs
 * LightGBM's random-forest mode on synthetic data with a known true probability, plus a default grid
 * search timed end to end. Every engine runs in its own process on the same bytes.
 *
 *   npx tsx bench/train.ts [--sizes 50000,200000,1000000] [--trees 200] [--depth 12] [--quick] [--json]
 *
 * Writes bench/results/train-<date>.json (train-<date>-quick.json with --quick). The Python engines
 * run in .tools/venv-bench (bench/requirements.txt), which the bench creates on first use. With two
 * or more sizes it reports each engine's growth exponent of fit time (log t2/t1 / log n2/n1) between
 * the smallest and the largest size.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { selectLabels, selectRows } from '../ml/matrix';
import { rocAuc } from '../ml/metrics';
import { runGridBench } from './train-grid';
import { makeSyntheticData } from '../testkit/synthetic';
import { writeBenchData } from './train-data';
import { boolFlag, intFlag, intListFlag, scriptArgs, type ParsedArgs } from '../cli/args';
import { ensureVenv } from './venv';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FEATURES = 40;
const TEST_ROWS = 20_000;

export interface TrainBenchOptions {
  /** training rows per run @default [50000, 200000] ([10000] with quick) */
  sizes?: number[];
  /** @default 200 (50 with quick) */
  trees?: number;
  /** @default 12 */
  depth?: number;
  /** small sizes for a smoke run */
  quick?: boolean;
}

type EngineResult = Record<string, unknown>;

async function runChild(cmd: string, args: string[]): Promise<EngineResult> {
  try {
    // passive OpenMP waiting: on a shared machine, spinning LightGBM threads would only measure contention
    const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' };
    const { stdout } = await run(cmd, args, { cwd: ROOT, env, maxBuffer: 16 << 20, timeout: 60 * 60_000 });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as EngineResult;
  } catch (err) {
    return { error: String((err as Error).message).split('\n').slice(0, 3).join(' ') };
  }
}

const tsEngine = (dir: string, engine: string, trees: number, depth: number) =>
  runChild(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/train-engine.ts'), dir, engine, String(trees), String(depth)]);

let venv: ReturnType<typeof ensureVenv> | null = null;
const pyEngine = (dir: string, engine: string, trees: number, depth: number) => {
  venv ??= ensureVenv('venv-bench', { requirements: join(ROOT, 'bench/requirements.txt') }, 'import sklearn, lightgbm');
  return 'python' in venv
    ? runChild(venv.python, [join(ROOT, 'bench/train_reference.py'), '--data', dir, '--engine', engine, '--trees', String(trees), '--depth', String(depth), '--jobs', String(availableParallelism())])
    : Promise.resolve({ error: venv.error });
};

/** Fit-time growth exponent of each engine between the smallest and the largest size: t ∝ n^k. */
export function growthExponents(runs: { dataset: { rows: number }; engines: Record<string, EngineResult> }[]): Record<string, number | null> | null {
  if (runs.length < 2) return null;
  const first = runs[0]!;
  const last = runs[runs.length - 1]!;
  const out: Record<string, number | null> = {};
  for (const name of Object.keys(first.engines)) {
    const [a, b] = [first.engines[name]?.fit_s, last.engines[name]?.fit_s];
    // the extrapolated reference has its exponent by construction, not by measurement
    out[name] = typeof a === 'number' && typeof b === 'number' && a > 0 && !first.engines[name]?.extrapolated
      ? Math.round((Math.log(b / a) / Math.log(last.dataset.rows / first.dataset.rows)) * 1000) / 1000 : null;
  }
  return out;
}

/**
 * ml-random-forest cannot fit the full sizes in reasonable time, so it is fitted on two subsamples
 * (n and 2n rows, full tree count); the growth exponent between them extrapolates its fit time.
 */
async function mlRandomForestScaling(dir: string, data: ReturnType<typeof makeSyntheticData>, test: ReturnType<typeof makeSyntheticData>, rows: [number, number], trees: number, depth: number) {
  const fits: EngineResult[] = [];
  for (const n of rows) {
    const idx = Int32Array.from({ length: n }, (_, i) => i); // rows are i.i.d., so the first n are a random subsample
    const sub = join(dir, `mlrf-${n}`);
    writeBenchData(sub, { X: selectRows(data.X, idx), y: selectLabels(data.y, idx), Xtest: test.X, ytest: test.y });
    fits.push(await tsEngine(sub, 'ml-random-forest', trees, depth));
  }
  return { rows, fits };
}

function extrapolate(scaling: Awaited<ReturnType<typeof mlRandomForestScaling>>, target: number): EngineResult {
  const [a, b] = scaling.fits;
  if (a.error || b.error) return { error: a.error ?? b.error, extrapolated: true };
  const [n1, n2] = scaling.rows;
  const [t1, t2] = [a.fit_s as number, b.fit_s as number];
  // clamp: the measured growth between two small sizes is noisy; below 1 would be sub-linear tree growth
  const exponent = Math.min(2.5, Math.max(1, Math.log(t2 / t1) / Math.log(n2 / n1)));
  return {
    ...b,
    fit_s: t2 * (target / n2) ** exponent,
    extrapolated: true,
    measured: { rows: [n1, n2], fit_s: [t1, t2], exponent, roc_auc_from_rows: n2, peak_rss_mb_from_rows: n2 },
  };
}

/** The bench's options from its flags (shared by `npx tsx bench/train.ts` and `retail24 bench train`). */
export function trainOptionsFromArgs(args: ParsedArgs): TrainBenchOptions {
  const sizes = intListFlag(args, 'sizes', 1000, 100_000_000);
  return {
    quick: boolFlag(args, 'quick'),
    ...(sizes ? { sizes } : {}),
    ...(args.flags.trees !== undefined ? { trees: intFlag(args, 'trees', 200, 1, 10_000) } : {}),
    ...(args.flags.depth !== undefined ? { depth: intFlag(args, 'depth', 12, 1, 64) } : {}),
  };
}

/** Run the benchmark; resolves to the JSON object that is also written to bench/results/. */
export async function runTrainBench(opts: TrainBenchOptions = {}): Promise<Record<string, unknown>> {
  const quick = opts.quick ?? false;
  const sizes = opts.sizes ?? (quick ? [10_000] : [50_000, 200_000]);
  const trees = opts.trees ?? (quick ? 50 : 200);
  const depth = opts.depth ?? 12;
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'retail24-bench-'));
  const runs: { dataset: { rows: number } & Record<string, unknown>; engines: Record<string, EngineResult>; goals: Record<string, unknown> }[] = [];
  try {
    const test = makeSyntheticData(TEST_ROWS, FEATURES, 2);
    let scaling: Awaited<ReturnType<typeof mlRandomForestScaling>> | null = null;
    for (const size of sizes) {
      const data = makeSyntheticData(size, FEATURES, 1);
      const sizeDir = join(dir, `n${size}`);
      writeBenchData(sizeDir, { X: data.X, y: data.y, Xtest: test.X, ytest: test.y });
      scaling ??= await mlRandomForestScaling(dir, data, test, quick ? [300, 600] : [1000, 2000], trees, depth);
      const engines: Record<string, EngineResult> = {
        retail24: await tsEngine(sizeDir, 'retail24', trees, depth),
        'ml-random-forest': extrapolate(scaling, size),
        sklearn: await pyEngine(sizeDir, 'sklearn', trees, depth),
        lightgbm_rf: await pyEngine(sizeDir, 'lightgbm_rf', trees, depth),
      };
      const ours = engines.retail24;
      const ratio = (other: EngineResult) => (typeof other.fit_s === 'number' && typeof ours.fit_s === 'number' ? ours.fit_s / other.fit_s : null);
      const skAuc = engines.sklearn.roc_auc;
      runs.push({
        dataset: { rows: size, features: FEATURES, trees, depth, test_rows: TEST_ROWS, oracle_roc_auc: rocAuc(test.y, test.pTrue) },
        engines,
        goals: {
          fit_ratio_vs_sklearn: ratio(engines.sklearn), // goal <= 1
          roc_auc_gap_vs_sklearn: typeof skAuc === 'number' && typeof ours.roc_auc === 'number' ? skAuc - ours.roc_auc : null, // goal <= 0.005
          fit_ratio_vs_lightgbm_rf: ratio(engines.lightgbm_rf),
        },
      });
    }
    const gridRows = Math.min(50_000, sizes[0]);
    const grid = await runGridBench(makeSyntheticData(gridRows, FEATURES, 1), quick);
    const result = {
      startedAt,
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg_before: loadBefore, loadavg_after: loadavg() },
      runs,
      growth_exponent: growthExponents(runs),
      grid_search: grid,
    };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    // a quick smoke run must not overwrite the day's full run
    const name = `train-${startedAt.slice(0, 10)}${quick ? '-quick' : ''}.json`;
    writeFileSync(join(ROOT, 'bench/results', name), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = scriptArgs({ quick: 'boolean', json: 'boolean', sizes: 'string', trees: 'string', depth: 'string' }, 'bench/train.ts [--sizes 50000,200000,1000000] [--trees N] [--depth N] [--quick] [--json]');
  const result = await runTrainBench(trainOptionsFromArgs(args));
  if (boolFlag(args, 'json')) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
