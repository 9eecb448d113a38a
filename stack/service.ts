import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Runs the service under a small bash supervisor in its own process group. The supervisor
 * forwards SIGTERM/SIGINT to the service and also stops it when the parent Node process
 * disappears (killed test runner, SIGKILLed `up`): Linux offers Node no parent-death signal, and
 * an orphaned Temporal server would keep its ports and its SQLite files.
 */
const SUPERVISOR = `
parent="$1"; shift
"$@" & child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
while kill -0 "$child" 2>/dev/null; do
  if ! kill -0 "$parent" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$child" 2>/dev/null || break; sleep 1; done
    kill -KILL "$child" 2>/dev/null; break
  fi
  sleep 1 & wait $! 2>/dev/null
done
wait "$child"
`;

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

export interface ServiceProcess {
  name: string;
  /** Pid of the supervisor, which is also the process-group id. */
  pid: number;
  logFile: string;
  /** Set once the process group leader has exited. */
  exitStatus: () => string | null;
  /** SIGTERM, wait up to timeoutMs, then SIGKILL the whole group. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts a long-running service with stdout/stderr appended to its log file. */
export function startService(spec: ServiceSpec): ServiceProcess {
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  const fd = fs.openSync(spec.logFile, 'a');
  fs.writeSync(fd, `\n--- ${new Date().toISOString()} starting ${spec.command} ${spec.args.join(' ')}\n`);
  const child = spawn('bash', ['-c', SUPERVISOR, 'supervise', String(process.pid), spec.command, ...spec.args], {
    stdio: ['ignore', fd, fd],
    env: spec.env ?? process.env,
    detached: true,
  });
  fs.closeSync(fd);
  let status: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      status = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      status = `failed to start: ${err.message}`;
      resolve();
    });
  });
  // The stack must not keep the parent's event loop alive on its own.
  child.unref();
  if (child.pid === undefined) throw new Error(`${spec.name}: could not spawn ${spec.command} (see ${spec.logFile})`);
  const pid = child.pid;

  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* group already gone */
    }
  };

  return {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exitStatus: () => status,
    async stop(timeoutMs = 15_000) {
      if (status !== null) return;
      signalGroup('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)));
      const late = await Promise.race([exited.then(() => false), timedOut]);
      clearTimeout(timer);
      if (late) {
        signalGroup('SIGKILL');
        await exited;
      }
    },
  };
}

/** Last lines of a log file, for error messages. */
export function tailLog(file: string, lines = 5): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}
