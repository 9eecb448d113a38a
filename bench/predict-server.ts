/**
 * The real API for the predict benchmark: `node:cluster` forks API_PROCESSES workers that share
 * one port (what a load balancer over replicas does, on one machine). Env as for `retail24 api`.
 */
import cluster from 'node:cluster';
import { loadConfig } from '../config';
import { startApi } from '../api/server';
import { startServerProfile } from './profile-server';

const n = Number(process.env.API_PROCESSES ?? 1);
if (cluster.isPrimary && n > 1) {
  let ready = 0;
  for (let i = 0; i < n; i++) {
    cluster.fork().on('message', (m) => {
      if (m === 'ready' && ++ready === n) console.log(`listening ${process.env.PORT}`);
    });
  }
  // stop after every worker has: each flushes its prediction log on SIGTERM, and the bench counts
  // the records once this process is gone (exiting at once lost 13,530 of 73,942 in one run)
  process.on('SIGTERM', () => {
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    void Promise.all(workers.map((w) => new Promise((r) => { w.once('exit', r); w.kill('SIGTERM'); }))).finally(() => process.exit(0));
  });
} else {
  const api = await startApi(loadConfig(process.env), { temporal: false, log: () => undefined });
  const stopProfile = await startServerProfile('predict-server');
  if (cluster.isWorker) process.send?.('ready');
  else console.log(`listening ${new URL(api.url).port}`);
  process.on('SIGTERM', () => void (async () => {
    await stopProfile?.();
    await api.close();
  })().finally(() => process.exit(0)));
}
