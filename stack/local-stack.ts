/**
 * Starts (or connects to) the local services retail24 needs without Docker: a Temporal dev server
 * and a MongoDB-protocol server (mongod on PATH, else FerretDB on SQLite). Used by `retail24 up`
 * and by the vitest global setup. `TEMPORAL_ADDRESS` / `MONGODB_URI` set means connect only.
 *
 * CLI for humans: `npx tsx scripts/local-stack.ts start|stop|status [--data-dir d]` (stack/cli.ts).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ensureSearchAttributes, SEARCH_ATTRIBUTE_TYPES, waitForMongo, waitForTemporal } from './health';
import { acquireLock, releaseLock, updateLock } from './lock';
import { assertPortFree, checkPort, freePorts } from './ports';
import { startService, type ServiceProcess } from './service';
import { ensureTools } from './tools';

export { ensureTools, type Tools, type ToolsOptions } from './tools';
export { DataDirLockedError } from './lock';
export { PortInUseError } from './ports';
export { ServiceUnavailableError } from './health';

/** Default ports of `retail24 up` (the Temporal CLI's own defaults, and MongoDB's). */
export const DEFAULT_PORTS = { temporal: 7233, temporalUi: 8233, mongo: 27017 } as const;

export interface StackOptions {
  /** Repo root. */
  root: string;
  /** Service data (Temporal SQLite, FerretDB SQLite, logs, lock). @default `<root>/.data` */
  dataDir?: string;
  /** @default `<root>/.tools` (env RETAIL24_TOOLS_DIR) */
  toolsDir?: string;
  /** @default { port: 7233, uiPort: 8233, namespace: env.TEMPORAL_NAMESPACE ?? 'default' } */
  temporal?: { port?: number; uiPort?: number; namespace?: string };
  /** @default { port: 27017 } */
  mongo?: { port?: number };
  /** Read for TEMPORAL_ADDRESS, MONGODB_URI, TEMPORAL_NAMESPACE, TEMPORAL_UI_URL, PATH. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Progress lines. @default no output */
  log?: (line: string) => void;
  /** Pick free ports instead of the defaults (tests running beside `up`). @default false */
  freePorts?: boolean;
  /** Bound for each service's health check. @default 60000 */
  startTimeoutMs?: number;
  /**
   * Stop the started services on SIGINT/SIGTERM/SIGHUP. Pass false when the caller stops the
   * stack itself (e.g. after draining a worker). The services are always signalled on exit.
   * @default true
   */
  handleSignals?: boolean;
}

export interface LocalStack {
  temporalAddress: string;
  temporalUiUrl: string | null;
  temporalNamespace: string;
  mongoUri: string;
  /** Which services this process started: 'temporal', 'ferretdb' or 'mongod'. */
  started: string[];
  dataDir: string;
  /** Log file per started service. */
  logs: Record<string, string>;
  /** Stops only what this process started, then releases the data-dir lock. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the missing services (or verifies the configured ones) and waits until they answer.
 * @throws PortInUseError | DataDirLockedError | ServiceUnavailableError, each with a one-line reason.
 */
export async function startLocalStack(opts: StackOptions): Promise<LocalStack> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);
  const root = path.resolve(opts.root);
  const dataDir = path.resolve(opts.dataDir ?? path.join(root, '.data'));
  const toolsDir = path.resolve(opts.toolsDir ?? env.RETAIL24_TOOLS_DIR ?? path.join(root, '.tools'));
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const namespace = opts.temporal?.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default';
  const external = { temporal: env.TEMPORAL_ADDRESS || undefined, mongo: env.MONGODB_URI || undefined };

  const services: ServiceProcess[] = [];
  let locked = false;
  const stopAll = async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    if (locked) releaseLock(dataDir);
    locked = false;
  };

  try {
    let temporalAddress = external.temporal;
    let temporalUiUrl: string | null = env.TEMPORAL_UI_URL || null;
    let mongoUri = external.mongo;
    const logs: Record<string, string> = {};

    if (!temporalAddress || !mongoUri) {
      const tools = await ensureTools({ root, toolsDir, env, log });
      acquireLock(dataDir, log);
      locked = true;
      const ports = await choosePorts(opts, Boolean(temporalAddress), Boolean(mongoUri));

      if (!temporalAddress) {
        temporalAddress = `127.0.0.1:${ports.temporal}`;
        temporalUiUrl = `http://127.0.0.1:${ports.temporalUi}`;
        const sa = Object.entries(SEARCH_ATTRIBUTE_TYPES).flatMap(([k, v]) => ['--search-attribute', `${k}=${v.type}`]);
        services.push(
          startService({
            name: 'temporal',
            command: tools.temporal,
            logFile: (logs.temporal = path.join(dataDir, 'logs', 'temporal.log')),
            args: ['server', 'start-dev', '--db-filename', path.join(ensureDir(dataDir, 'temporal'), 'temporal.db'),
              '--ip', '127.0.0.1', '--port', String(ports.temporal), '--ui-port', String(ports.temporalUi),
              '--namespace', namespace, '--ui-disable-news-fetch', ...sa],
          }),
        );
        log(`starting Temporal dev server on ${temporalAddress} (UI ${temporalUiUrl}, log ${logs.temporal})`);
      }
      if (!mongoUri) {
        mongoUri = `mongodb://127.0.0.1:${ports.mongo}/`;
        const name = tools.mongod ? 'mongod' : 'ferretdb';
        const dir = ensureDir(dataDir, name);
        const args = tools.mongod
          ? ['--dbpath', dir, '--bind_ip', '127.0.0.1', '--port', String(ports.mongo)]
          : ['--handler=sqlite', `--sqlite-url=file:${dir}/`, `--listen-addr=127.0.0.1:${ports.mongo}`,
              '--debug-addr=-', '--telemetry=disable', `--state-dir=${dir}`, '--log-level=warn'];
        logs[name] = path.join(dataDir, 'logs', `${name}.log`);
        services.push(startService({ name, command: (tools.mongod ?? tools.ferretdb)!, args, logFile: logs[name] }));
        log(`starting ${name} on ${mongoUri} (data ${dir}, log ${logs[name]})`);
      }
      updateLock(dataDir, { children: services.map((s) => ({ name: s.name, pid: s.pid })), temporalAddress, temporalUiUrl, mongoUri });
    }

    const byName = (n: string) => services.find((s) => s.name === n);
    await Promise.all([
      waitForTemporal(temporalAddress, namespace, { timeoutMs, service: byName('temporal') }),
      waitForMongo(mongoUri, { timeoutMs, service: byName('ferretdb') ?? byName('mongod') }),
    ]);
    try {
      const added = await ensureSearchAttributes(temporalAddress, namespace);
      if (added.length) log(`registered search attributes ${added.join(', ')} on ${temporalAddress}`);
    } catch (err) {
      // A managed Temporal may refuse operator calls; workflows then fail with a clear SDK error.
      if (byName('temporal')) throw err;
      log(`warning: could not register search attributes on ${temporalAddress}: ${(err as Error).message}`);
    }

    const started = services.map((s) => s.name);
    const detach = watchProcess(services, dataDir, opts.handleSignals !== false ? stopAll : null);
    log(started.length ? `started ${started.join(', ')}` : 'connected to configured services, started nothing');
    return {
      temporalAddress, temporalUiUrl, temporalNamespace: namespace, mongoUri, started, dataDir, logs,
      async stop() {
        detach();
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function ensureDir(dataDir: string, sub: string): string {
  const dir = path.join(dataDir, sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function choosePorts(opts: StackOptions, haveTemporal: boolean, haveMongo: boolean) {
  if (opts.freePorts) {
    const [temporal, temporalUi, mongo] = await freePorts(3);
    return { temporal: temporal!, temporalUi: temporalUi!, mongo: mongo! };
  }
  const temporal = checkPort(opts.temporal?.port ?? DEFAULT_PORTS.temporal, 'temporal.port');
  const temporalUi = checkPort(opts.temporal?.uiPort ?? DEFAULT_PORTS.temporalUi, 'temporal.uiPort');
  const mongo = checkPort(opts.mongo?.port ?? DEFAULT_PORTS.mongo, 'mongo.port');
  if (!haveTemporal) {
    await assertPortFree(temporal, 'Temporal gRPC', `stop whatever listens there, or set TEMPORAL_ADDRESS=127.0.0.1:${temporal} to use that server`);
    await assertPortFree(temporalUi, 'Temporal UI', 'stop whatever listens there, or choose another UI port');
  }
  if (!haveMongo) {
    await assertPortFree(mongo, 'MongoDB', `stop whatever listens there, or set MONGODB_URI=mongodb://127.0.0.1:${mongo} to use that server`);
  }
  return { temporal, temporalUi, mongo };
}

/**
 * Ties the services to this process: signals stop them (when asked), and a plain exit at least
 * sends SIGTERM and frees the lock, since 'exit' handlers cannot wait.
 */
function watchProcess(services: ServiceProcess[], dataDir: string, onSignal: (() => Promise<void>) | null): () => void {
  const onExit = () => {
    for (const s of services) {
      try {
        process.kill(-s.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    releaseLock(dataDir);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handler = (sig: NodeJS.Signals) => {
    void onSignal!().finally(() => {
      // Re-raise only if nobody else handles the signal, so the caller's own handler decides.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
    detach();
  };
  const detach = () => {
    process.off('exit', onExit);
    if (onSignal) for (const s of signals) process.off(s, handler);
  };
  process.on('exit', onExit);
  if (onSignal) for (const s of signals) process.on(s, handler);
  return detach;
}
