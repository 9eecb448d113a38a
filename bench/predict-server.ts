/**
 * The real API for the predict benchmark: `node:cluster` forks API_PROCESSES workers that share
 * one port (what a load balancer over replicas does, on one machine). Env as for `retail24 api`.
 */
import cluster from 'node:cluster';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { startApi } from '../api/server';

const n = Number(process.env.API_PROCESSES ?? 1);
if (cluster.isPrimary && n > 1) {
  let ready = 0;
  for (let i = 0; i < n; i++) {
    cluster.fork().on('message', (m) => {
      if (m === 'ready' && ++ready === n) console.log(`listening ${process.env.PORT}`);
    });
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const api = await startApi(loadConfig(process.env), { temporal: false, log: () => undefined });
  // PREDICT_PROFILE_DIR: a V8 CPU profile of this server process, written when it is stopped
  // (the request path's breakdown in bench/README.md comes from one)
  const profileDir = process.env.PREDICT_PROFILE_DIR;
  const session = profileDir ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  if (cluster.isWorker) process.send?.('ready');
  else console.log(`listening ${new URL(api.url).port}`);
  process.on('SIGTERM', () => void (async () => {
    if (session && profileDir) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(join(profileDir, `predict-server-${process.pid}.cpuprofile`), JSON.stringify(profile));
    }
    await api.close();
  })().finally(() => process.exit(0)));
}
