// `npx tsx scripts/local-stack.ts start|stop|status [--data-dir DIR]`: the local stack for humans
// (the code is stack/, which the product, tests and benches import; nothing imports scripts/).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../stack/cli';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.exitCode = await runCli(process.argv.slice(2), root);
