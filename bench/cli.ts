import { parseArgs, UsageError } from '../cli/args';

/** `retail24 bench <train|predict|ingest|score> [--json] [--quick]` (train also `--sizes`, `--trees`, `--depth`; predict `--only`): runs a benchmark from bench/, prints its JSON. */
export async function benchCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: 'boolean', quick: 'boolean', sizes: 'string', trees: 'string', depth: 'string', only: 'string' });
  const which = args.positional[0];
  const quick = args.flags.quick === true;
  let result: unknown;
  switch (which) {
    case 'train': {
      const train = await import('./train');
      result = await train.runTrainBench(train.trainOptionsFromArgs(args));
      break;
    }
    case 'predict':
      result = await (await import('./predict')).runPredictBench({ quick, only: typeof args.flags.only === 'string' ? args.flags.only.split(',') : undefined });
      break;
    case 'ingest':
      result = await (await import('./ingest')).runIngestBench({ quick });
      break;
    case 'score':
      result = await (await import('./score')).runScoreBench({ quick });
      break;
    default:
      throw new UsageError(`usage: retail24 bench <train|predict|ingest|score> [--json] [--quick] [train: --sizes 50000,200000 --trees N --depth N] [predict: --only retail24,express_constant] (got ${JSON.stringify(which ?? '')})`);
  }
  console.log(JSON.stringify(result, null, args.flags.json ? 0 : 2));
  return 0;
}
