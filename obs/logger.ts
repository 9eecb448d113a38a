/**
 * One structured logger per process (pino), built from config: `LOG_LEVEL`, `LOG_FORMAT` (`json`
 * lines for machines, `pretty` for a terminal). The worker installs it as Temporal's runtime
 * logger, so the SDK's own messages, activity logs (`log` from @temporalio/activity: workflow id,
 * activity id and attempt attached) and workflow logs (`log` from @temporalio/workflow: replay-safe)
 * all arrive here; the API logs each request with its request id (api/observe.ts).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';

export type { Logger };

export interface LogSettings {
  LOG_LEVEL: LevelWithSilent;
  LOG_FORMAT: 'json' | 'pretty';
}

/** The process's logger; `service` names the process kind (`worker`, `api`). */
export function createLogger(settings: LogSettings, service: string): Logger {
  const options = { level: settings.LOG_LEVEL, base: { service, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (settings.LOG_FORMAT === 'pretty') {
    return pino(options, pino.transport({ target: 'pino-pretty', options: { colorize: process.stderr.isTTY === true, destination: 2 } }));
  }
  return pino(options, pino.destination({ dest: 2, sync: false }));
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** Temporal's logger interface over pino (Runtime.install({ logger })): meta becomes fields. */
export function temporalLogger(log: Logger): TemporalLogger {
  const at = (level: LogLevel) => (message: string, meta?: LogMetadata) => log[LEVELS[level]](meta ?? {}, message);
  return {
    log: (level, message, meta) => at(level)(message, meta),
    trace: at('TRACE'), debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR'),
  };
}
