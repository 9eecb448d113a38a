import { generateToFiles } from '../data/generator';
import { parseTimestamp } from '../data/timestamp';
import { parseArgs, intFlag, strFlag, UsageError, type ParsedArgs } from './args';

/** `--as-of`: ISO 8601 or `YYYY-MM-DD HH:MM:SS[.fff]`; UTC unless the text carries `Z` or an offset. */
function asOfFlag(args: ParsedArgs): number | undefined {
  const v = args.flags['as-of'];
  if (v === undefined) return undefined;
  const t = typeof v === 'string' ? parseTimestamp(v, 'UTC', 'auto') : null;
  if (t === null) {
    throw new UsageError(`--as-of must be an ISO 8601 or "YYYY-MM-DD HH:MM:SS" timestamp (UTC unless an offset is given), got ${JSON.stringify(v)}`);
  }
  return t;
}

/** `--cutoff-hours`: a plain decimal number >= 0 (no sign, exponent or hex). */
function cutoffHoursFlag(args: ParsedArgs): number | undefined {
  const v = args.flags['cutoff-hours'];
  if (v === undefined) return undefined;
  const h = typeof v === 'string' && /^(\d+(\.\d*)?|\.\d+)$/.test(v) ? Number(v) : Number.NaN;
  // 1e6 h (~114 years) is far past the generator's 72 h late-purchase tail; the bound keeps asOf a valid Date.
  if (!(h >= 0 && h <= 1e6)) throw new UsageError(`--cutoff-hours must be a number in 0..1000000, got ${JSON.stringify(v)}`);
  return h;
}

/**
 * `retail24 generate --users N --out FILE [--seed S] [--drift] [--base-rate R]
 *  [--as-of TIMESTAMP | --cutoff-hours H]`
 *
 * The cut-off makes a right-censored export (data/GENERATOR.md "Cut-off"): `--as-of` is the
 * moment the export is taken, `--cutoff-hours H` puts it H hours after the latest first_open.
 */
export async function generateCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    users: 'string', out: 'string', seed: 'string', drift: 'boolean', 'base-rate': 'string', 'as-of': 'string', 'cutoff-hours': 'string', json: 'boolean',
  });
  const out = strFlag(args, 'out');
  if (!out) throw new UsageError('--out FILE is required');
  const baseRate = args.flags['base-rate'] === undefined ? 0.2 : Number(args.flags['base-rate']);
  if (!(baseRate > 0 && baseRate < 1)) throw new UsageError(`--base-rate must be in (0, 1), got ${JSON.stringify(args.flags['base-rate'])}`);
  const asOf = asOfFlag(args);
  const cutoffHours = cutoffHoursFlag(args);
  if (asOf !== undefined && cutoffHours !== undefined) {
    throw new UsageError(`--as-of and --cutoff-hours are mutually exclusive, got --as-of ${JSON.stringify(args.flags['as-of'])} and --cutoff-hours ${JSON.stringify(args.flags['cutoff-hours'])}`);
  }
  const summary = await generateToFiles({
    users: intFlag(args, 'users', 5000, 1, 50_000_000),
    seed: intFlag(args, 'seed', 42, 0, 2 ** 31 - 1),
    drift: args.flags.drift === true,
    baseRate,
    out,
    ...(asOf !== undefined ? { asOf } : {}),
    ...(cutoffHours !== undefined ? { cutoffHours } : {}),
  });
  if (args.flags.json) {
    console.log(JSON.stringify(summary));
    return 0;
  }
  const base = `wrote ${summary.users} users to ${summary.out} (truth: ${summary.truthFile}); base rate ${(summary.baseRate * 100).toFixed(1)} %, best achievable ROC AUC ${summary.oracleAuc.toFixed(4)}`;
  const cut = summary.asOf === null
    ? ''
    : `; as of ${new Date(summary.asOf).toISOString()}: ${summary.pending} users pending (24 h window still open, no purchase yet; truth keeps their eventual label)`;
  console.log(base + cut);
  return 0;
}
