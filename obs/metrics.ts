/**
 * Prometheus metrics through prom-client: one registry per process part (each API app, the
 * worker), default process metrics (heap, GC, event-loop lag, CPU) on each, and the worker's
 * activity metrics. Names and labels of the API's metrics are those of the first round's
 * hand-written exposition, so dashboards keep working.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

/** A registry with the default process metrics. */
export function processRegistry(labels: Record<string, string> = {}): Registry {
  const register = new Registry();
  register.setDefaultLabels(labels);
  collectDefaultMetrics({ register });
  return register;
}

/** Activity durations (per activity type and outcome), grid cells fitted and users scored. */
export class WorkerMetrics {
  readonly activityDuration: Histogram<'activity' | 'outcome'>;
  readonly cells: Counter;
  readonly scoredUsers: Counter;

  constructor(readonly register: Registry) {
    this.activityDuration = new Histogram({
      name: 'retail24_activity_duration_seconds', help: 'Activity executions on this worker by type and outcome (completed, failed).',
      labelNames: ['activity', 'outcome'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800], registers: [register],
    });
    this.cells = new Counter({ name: 'retail24_cv_cells_total', help: 'Grid-search cells (params × fold) fitted on this worker.', registers: [register] });
    this.scoredUsers = new Counter({ name: 'retail24_scored_users_total', help: 'Scores written by scoring jobs on this worker.', registers: [register] });
  }

  /** The worker interceptor that feeds these metrics (WorkerOptions.interceptors.activity). */
  interceptor(): ActivityInterceptorsFactory {
    return (ctx) => {
      const inbound: ActivityInboundCallsInterceptor = {
        execute: async (input, next) => {
          const activity = ctx.info.activityType;
          const end = this.activityDuration.startTimer({ activity });
          try {
            const out = await next(input);
            end({ outcome: 'completed' });
            if (activity === 'runCvCell') this.cells.inc();
            if (activity === 'scoreJob') this.scoredUsers.inc((out as { written?: number } | undefined)?.written ?? 0);
            return out;
          } catch (err) {
            end({ outcome: 'failed' });
            throw err;
          }
        },
      };
      return { inbound };
    };
  }
}

/** Serves `register` at GET /metrics on `port` (0 = a free one); resolves once listening. */
export async function serveMetrics(register: Registry, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found: GET /metrics\n');
      return;
    }
    register.metrics().then(
      (text) => res.writeHead(200, { 'content-type': register.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return { server, url: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}/metrics` };
}
