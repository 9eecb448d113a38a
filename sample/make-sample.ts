/** Regenerates the bundled sample: `npx tsx sample/make-sample.ts` (see sample/README.md). */
import { generateToFiles } from '../data/generator';

const here = new URL('./', import.meta.url).pathname;
const users = await generateToFiles({ users: 5000, seed: 42, out: `${here}users.csv` });
const drift = await generateToFiles({ users: 2000, seed: 42, drift: true, out: `${here}drift.csv` });
console.log(JSON.stringify({ users, drift }, null, 2));
