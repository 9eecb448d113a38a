/**
 * Generator throughput: `npx tsx bench/generate.ts [users=1000000] [--drift]`.
 * Writes the CSV to a temp dir (deleted afterwards) and the result to bench/results/generate-<users>.json.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { generateToFiles } from '../data/generator';
import { boolFlag, intValue, scriptArgs } from '../cli/args';

const args = scriptArgs({ drift: 'boolean', users: 'string' }, 'bench/generate.ts [users] [--users N] [--drift]');
const usersArg = args.flags.users ?? args.positional[0];
const users = usersArg === undefined ? 1_000_000 : intValue('users', usersArg, 1, 100_000_000);
const drift = boolFlag(args, 'drift');
const dir = mkdtempSync(join(tmpdir(), 'retail24-bench-gen-'));
try {
  const out = join(dir, 'users.csv');
  const t0 = process.hrtime.bigint();
  const summary = await generateToFiles({ users, seed: 42, drift, out });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const result = {
    bench: 'generate', users, drift, seconds: Number(seconds.toFixed(3)), usersPerSecond: Math.round(users / seconds),
    csvBytes: statSync(out).size, truthBytes: statSync(summary.truthFile).size,
    baseRate: summary.baseRate, oracleAuc: summary.oracleAuc,
    node: process.version, cpu: cpus()[0]?.model, date: new Date().toISOString(),
  };
  const resultsDir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `generate-${users}${drift ? '-drift' : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
