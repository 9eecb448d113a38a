/**
 * One TypeScript engine, one process (so peak RSS is the engine's own): fit on the bench data,
 * time scoring, print one JSON line. Run by bench/train.ts:
 *   node --import tsx bench/train-engine.ts <dataDir> <engine> <trees> <depth>
 */
import { assertEngine, fitEngine } from '../ml/engines';
import { rocAuc } from '../ml/metrics';
import { readBenchData } from './train-data';

const [dir, engine, trees, depth] = process.argv.slice(2);
assertEngine(engine);
const d = readBenchData(dir);
const t0 = performance.now();
const model = await fitEngine(engine, d.X, d.y, { nEstimators: Number(trees), maxDepth: Number(depth) });
const fitS = (performance.now() - t0) / 1000;
const proba = model.predictProba(d.Xtest);
const cols = d.Xtest.cols;
const singles: number[] = [];
const repeats = engine === 'retail24' ? 200 : 20;
for (let i = 0; i < repeats; i++) {
  const row = d.Xtest.data.subarray(i * cols, (i + 1) * cols);
  const s = performance.now();
  model.predictProbaRow(row);
  singles.push(performance.now() - s);
}
singles.sort((a, b) => a - b);
const batchRows = Math.min(10_000, d.Xtest.rows);
const batch = { data: d.Xtest.data.subarray(0, batchRows * cols), rows: batchRows, cols };
const s = performance.now();
model.predictProba(batch);
const predict10kMs = performance.now() - s;
process.stdout.write(`${JSON.stringify({
  fit_s: fitS,
  predict_1_ms: singles[Math.floor(singles.length / 2)],
  predict_10k_ms: predict10kMs,
  roc_auc: rocAuc(d.ytest, proba),
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
})}\n`);
