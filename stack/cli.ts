import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalStack } from './local-stack';
import { waitForMongo, waitForTemporal } from './health';
import { isAlive, killOrphans, lockPath, readLock } from './lock';

const USAGE = 'usage: npx tsx scripts/local-stack.ts start|stop|status [--data-dir DIR] [--temporal-port N] [--ui-port N] [--mongo-port N]';

const log = (line: string) => process.stderr.write(`local-stack: ${line}\n`);

/** `start` runs in the foreground until Ctrl-C; `stop` asks the owner of the data dir to stop; `status` probes. */
export async function runCli(argv: string[], root: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        'temporal-port': { type: 'string' },
        'ui-port': { type: 'string' },
        'mongo-port': { type: 'string' },
      },
    });
  } catch (err) {
    log(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const dataDir = path.resolve(values['data-dir'] ?? path.join(root, '.data'));
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  try {
    switch (positionals[0]) {
      case 'start': {
        const stack = await startLocalStack({
          root, dataDir, log,
          temporal: { port: num(values['temporal-port']), uiPort: num(values['ui-port']) },
          mongo: { port: num(values['mongo-port']) },
        });
        const { stop: _stop, ...info } = stack;
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        log('running; press Ctrl-C to stop');
        setInterval(() => undefined, 1 << 30);
        return await new Promise<number>(() => undefined);
      }
      case 'stop':
        return await stop(dataDir);
      case 'status':
        return await status(dataDir);
      default:
        log(USAGE);
        return 2;
    }
  } catch (err) {
    log((err as Error).message);
    return 1;
  }
}

async function stop(dataDir: string): Promise<number> {
  const held = readLock(dataDir);
  if (!held) {
    log(`no stack running for ${dataDir}`);
    return 0;
  }
  if (!isAlive(held.pid)) {
    killOrphans(dataDir, held, log);
    fs.rmSync(lockPath(dataDir), { force: true });
    log(`removed stale lock of dead pid ${held.pid}`);
    return 0;
  }
  process.kill(held.pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!fs.existsSync(lockPath(dataDir))) {
      log(`stopped stack of pid ${held.pid}`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`pid ${held.pid} did not release ${lockPath(dataDir)} within 30s`);
  return 1;
}

async function status(dataDir: string): Promise<number> {
  const held = readLock(dataDir);
  if (!held) {
    log(`no stack running for ${dataDir}`);
    return 3;
  }
  const alive = isAlive(held.pid);
  const probe = async (fn: () => Promise<void>) => fn().then(() => 'up', (e: Error) => `down (${e.message})`);
  const report = {
    ...held,
    ownerAlive: alive,
    temporal: held.temporalAddress ? await probe(() => waitForTemporal(held.temporalAddress!, 'default', { timeoutMs: 3000 })) : 'unknown',
    mongo: held.mongoUri ? await probe(() => waitForMongo(held.mongoUri!, { timeoutMs: 3000 })) : 'unknown',
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return alive ? 0 : 3;
}
