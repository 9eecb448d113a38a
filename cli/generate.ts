import { generateToFiles } from '../data/generator';
import { parseArgs, intFlag, strFlag, UsageError } from './args';

/** `retail24 generate --users N --out FILE [--seed S] [--drift] [--base-rate R]` */
export async function generateCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { users: 'string', out: 'string', seed: 'string', drift: 'boolean', 'base-rate': 'string', json: 'boolean' });
  const out = strFlag(args, 'out');
  if (!out) throw new UsageError('--out FILE is required');
  const baseRate = args.flags['base-rate'] === undefined ? 0.2 : Number(args.flags['base-rate']);
  if (!(baseRate > 0 && baseRate < 1)) throw new UsageError(`--base-rate must be in (0, 1), got ${JSON.stringify(args.flags['base-rate'])}`);
  const summary = await generateToFiles({
    users: intFlag(args, 'users', 5000, 1, 50_000_000),
    seed: intFlag(args, 'seed', 42, 0, 2 ** 31 - 1),
    drift: args.flags.drift === true,
    baseRate,
    out,
  } as never);
  if (args.flags.json) console.log(JSON.stringify(summary));
  else console.log(`wrote ${summary.users} users to ${summary.out} (truth: ${summary.truthFile}); base rate ${(summary.baseRate * 100).toFixed(1)} %, best achievable ROC AUC ${summary.oracleAuc.toFixed(4)}`);
  return 0;
}
