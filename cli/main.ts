import { UsageError } from './args';

const USAGE = `usage: retail24 <command> [options]

  up [--once] [--json] [--sample FILE [--mapping m.json] [--as-of TIME]]
                                       start the local stack, train on the bundled sample (or FILE), serve
  generate --users N --out FILE [--seed S] [--drift] [--base-rate R] [--as-of TIME | --cutoff-hours H]
  ingest <csv> [--mapping m.json] [--as-of TIME]
                                       run the ingest workflow, print a JSON summary
  train [--wait] [--reason TEXT]       run the training pipeline
  retrain --reason TEXT [--by NAME]    signal the monitor to retrain
  status [--json]                      production model, monitor state, last runs
  score [--json]                       score every new user with the production model now (and keep the schedule)
  audience <name> | --top 10% | --top 500 | --recall 0.9 | --precision 0.4
           [--open] [--out FILE.csv|.jsonl] [--save NAME [--description TEXT]]
                                       an audience's expected buyers and lift; its members to a file
  simulate [--days 30] [--users-per-day 2000] [--shift-day 18] [--shift behaviour|conversion]
           [--outcome-share 0.5] [--predict-share 0.5] [--history-days 3] [--seed N] [--out file.json]
                                       replay daily exports through the real system, scored against the truth
  worker | api                         the long-running processes
  bench <train|predict|ingest|score> [--json]

Every command accepts --json. Configuration is read from the environment (see README.md).`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./up')).upCommand,
  generate: async () => (await import('./generate')).generateCommand,
  ingest: async () => (await import('./ingest')).ingestCommand,
  train: async () => (await import('./train')).trainCommand,
  retrain: async () => (await import('./retrain')).retrainCommand,
  status: async () => (await import('./status')).statusCommand,
  simulate: async () => (await import('./simulate')).simulateCommand,
  score: async () => (await import('./score')).scoreCommand,
  audience: async () => (await import('./audience')).audienceCommand,
  worker: async () => async () => {
    await (await import('../worker/main')).runWorkerMain();
    return 0;
  },
  api: async () => async () => {
    await (await import('../api/server')).runApiMain();
    return 0;
  },
};

/** One command: resolves to its runner, which returns the exit code. */
export type CommandTable = Record<string, () => Promise<(argv: string[]) => Promise<number>>>;

/**
 * Runs one command; on failure prints a single line `retail24 <cmd>: <reason>` and returns 1 (2 for usage).
 * `extra` adds commands from outside the product (bin/retail24.mjs adds `bench` from bench/, which the
 * product's own modules never import).
 */
export async function main(argv: string[], extra: CommandTable = {}): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const load = extra[name] ?? COMMANDS[name];
  if (!load) {
    console.error(`retail24: unknown command ${JSON.stringify(name)}\n${USAGE}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    console.error(`retail24 ${name}: ${msg.split('\n')[0]}`);
    if (process.env.RETAIL24_DEBUG) console.error(err);
    return err instanceof UsageError ? 2 : 1;
  }
}
