/**
 * Cost of `explain`: a 200-tree, depth-12 forest on 20,000 synthetic rows × 40 features (the train
 * bench's data generator), then per single row: predictProbaRow (the scoring hot path), Saabas and
 * path-dependent TreeSHAP (ml/explain.ts). Wall clock and CPU time (process.cpuUsage) per row.
 *
 *   npx tsx bench/explain.ts [--rows 20000] [--trees 200] [--depth 12] [--shap-rows 100]
 *
 * Writes bench/results/explain.json. Timings are this machine's (load average recorded).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { EXPLAIN_METHODS, explainRow, type ExplainMethod } from '../ml/explain';
import { fitRandomForest, RandomForest } from '../ml/forest';
import { makeSyntheticData } from '../testkit/synthetic';
import { intFlag, scriptArgs } from '../cli/args';

const COLS = 40;
const SCORE_ROWS = 2000;

/** Median over `rounds` of (wall µs, CPU µs) per call of fn over rows [0, n). */
function perRow(n: number, rounds: number, fn: (r: number) => void): { wall_us: number; cpu_us: number } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < rounds; k++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let r = 0; r < n; r++) fn(r);
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    wall.push(((t1 - t0) * 1000) / n);
    cpu.push((c1.user + c1.system) / n);
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return { wall_us: r2(median(wall)), cpu_us: r2(median(cpu)) };
}

async function main() {
  const a = scriptArgs({ rows: 'string', trees: 'string', depth: 'string', 'shap-rows': 'string' }, 'bench/explain.ts [--rows N] [--trees N] [--depth N] [--shap-rows N]');
  const rows = intFlag(a, 'rows', 20_000, 100, 10_000_000);
  const trees = intFlag(a, 'trees', 200, 1, 10_000);
  const depth = intFlag(a, 'depth', 12, 1, 64);
  const shapRows = intFlag(a, 'shap-rows', 100, 1, 100_000);
  const load = { before: loadavg().map((x) => +x.toFixed(2)), after: [] as number[] };
  const train = makeSyntheticData(rows, COLS, 1);
  const test = makeSyntheticData(SCORE_ROWS, COLS, 2);
  const t0 = performance.now();
  const forest = await fitRandomForest(train.X, train.y, { nEstimators: trees, maxDepth: depth });
  const fitS = (performance.now() - t0) / 1000;
  const row = (r: number) => test.X.data.subarray(r * COLS, (r + 1) * COLS);
  const { feature, depths } = forest.flat;
  let leaves = 0;
  for (let i = 0; i < feature.length; i++) if (feature[i] < 0) leaves++;

  // the same forest without covers: scoring never reads them, so this must cost the same
  const noCover = new RandomForest(forest.options, forest.nFeatures, { ...forest.flat, cover: new Float64Array(0) });
  let sink = 0;
  for (let r = 0; r < SCORE_ROWS; r++) sink += forest.predictProbaRow(row(r)) + noCover.predictProbaRow(row(r)); // warm-up, layouts built
  const predict = perRow(SCORE_ROWS, 7, (r) => { sink += forest.predictProbaRow(row(r)); });
  const predictNoCover = perRow(SCORE_ROWS, 7, (r) => { sink += noCover.predictProbaRow(row(r)); });

  const explain = (method: ExplainMethod, n: number, rounds: number) => {
    for (let r = 0; r < Math.min(n, 10); r++) sink += explainRow(forest, row(r), { method }).expectedValue; // warm-up
    let worst = 0;
    for (let r = 0; r < n; r++) {
      const e = explainRow(forest, row(r), { method });
      let s = e.expectedValue;
      for (let f = 0; f < COLS; f++) s += e.contributions[f];
      worst = Math.max(worst, Math.abs(s - forest.predictProbaRow(row(r))));
    }
    return { ...perRow(n, rounds, (r) => { sink += explainRow(forest, row(r), { method }).contributions[0]; }), rows: n, max_additivity_error: worst };
  };
  const saabas = explain(EXPLAIN_METHODS.saabas, SCORE_ROWS, 5);
  const treeShap = explain(EXPLAIN_METHODS.treeShap, shapRows, 3);
  load.after = loadavg().map((x) => +x.toFixed(2));

  const result = {
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg_before: load.before, loadavg_after: load.after },
    forest: {
      rows, features: COLS, trees, depth, fit_s: +fitS.toFixed(2), nodes: feature.length, leaves,
      mean_leaves_per_tree: Math.round(leaves / trees), max_tree_depth: Math.max(...depths), row_layout: forest.rowLayout,
    },
    predict_proba_row: predict,
    predict_proba_row_cover_stripped: predictNoCover,
    saabas,
    tree_shap_path_dependent: treeShap,
    /** CPU time of one TreeSHAP explanation over one predictProbaRow (CPU: less sensitive to load than wall clock) */
    tree_shap_over_predict_cpu: Math.round(treeShap.cpu_us / predict.cpu_us),
    checksum: sink,
  };
  const dir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'explain.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
