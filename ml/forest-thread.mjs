// Worker entry for forest training. Plain ESM so Node can start it whether the parent runs under
// `node --import tsx`, under vitest, or anywhere else: it registers tsx itself (worker threads do not
// inherit the parent's module hooks on Node 20) and then loads the TypeScript core.
import { register } from 'tsx/esm/api';

register();
const { runForestThread } = await import('./forest-thread.ts');
runForestThread();
