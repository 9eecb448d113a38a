import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { processRegistry } from '../obs/metrics';

/** Latency buckets in seconds: sub-millisecond resolution where the scoring path lives. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

export interface RenderExtras {
  model: { name: string; version: number; loadMs: number } | null;
  modelLoads: number;
  predictionLog?: { written: number; dropped: number };
}

/**
 * The API's Prometheus metrics (prom-client, one registry per app, with the default process
 * metrics: heap, GC, event-loop lag). Each API process exposes its own; Prometheus sums them
 * across replicas. Route labels are route patterns (`/v1/models/:name/versions`), never raw
 * paths, so the label set stays bounded however clients misbehave. Model and prediction-log
 * figures are read from their owners at scrape time (`render`).
 */
export class Metrics {
  readonly register: Registry;
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly predictions: Counter<'model' | 'version'>;
  private readonly modelLoad: Gauge<'model' | 'version'>;
  private readonly modelLoads: Gauge;
  private readonly modelVersion: Gauge;
  private readonly logWritten: Gauge;
  private readonly logDropped: Gauge;
  private readonly uptime: Gauge;
  private readonly startedAt = Date.now();

  constructor(register: Registry = processRegistry()) {
    this.register = register;
    const registers = [register];
    this.requests = new Counter({ name: 'retail24_http_requests_total', help: 'HTTP requests by method, route pattern and status.', labelNames: ['method', 'route', 'status'], registers });
    this.latency = new Histogram({ name: 'retail24_http_request_duration_seconds', help: 'Request latency by method and route pattern.', labelNames: ['method', 'route'], buckets: [...LATENCY_BUCKETS], registers });
    this.predictions = new Counter({ name: 'retail24_predictions_total', help: 'Users scored, by model and version.', labelNames: ['model', 'version'], registers });
    this.modelLoad = new Gauge({ name: 'retail24_model_load_seconds', help: 'Time to load the model version being served (blob read + deserialise).', labelNames: ['model', 'version'], registers });
    // set from the model holder's count at scrape time (a gauge: prom-client counters cannot be set)
    this.modelLoads = new Gauge({ name: 'retail24_model_loads_total', help: 'Model versions loaded by this process (start plus alias swaps).', registers });
    this.modelVersion = new Gauge({ name: 'retail24_model_version', help: 'Version currently served (0 = none).', registers });
    this.logWritten = new Gauge({ name: 'retail24_prediction_log_written_total', help: 'Prediction records written to MongoDB.', registers });
    this.logDropped = new Gauge({ name: 'retail24_prediction_log_dropped_total', help: 'Prediction records dropped (buffer full or write failed).', registers });
    this.uptime = new Gauge({ name: 'retail24_process_uptime_seconds', help: 'Seconds since this API process started.', registers });
  }

  /**
   * The label children per request (method, route, status), looked up once and kept: prom-client
   * sorts and joins the label names on every labelled call, twice per request on the hot path.
   * Bounded: routes are patterns, methods and statuses few.
   */
  private readonly perRequest = new Map<string, { count: ReturnType<Counter<'method' | 'route' | 'status'>['labels']>; latency: ReturnType<Histogram<'method' | 'route'>['labels']> }>();
  private readonly perModel = new Map<string, ReturnType<Counter<'model' | 'version'>['labels']>>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let c = this.perRequest.get(key);
    if (!c) {
      c = { count: this.requests.labels(method, route, String(status)), latency: this.latency.labels(method, route) };
      this.perRequest.set(key, c);
    }
    c.count.inc();
    c.latency.observe(seconds);
  }

  countPredictions(model: string, version: number, n: number): void {
    const key = `${model}@${version}`;
    let c = this.perModel.get(key);
    if (!c) {
      c = this.predictions.labels(model, String(version));
      this.perModel.set(key, c);
    }
    c.inc(n);
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async render(extra: RenderExtras = { model: null, modelLoads: 0 }): Promise<string> {
    this.modelLoad.reset();
    if (extra.model) this.modelLoad.set({ model: extra.model.name, version: String(extra.model.version) }, extra.model.loadMs / 1000);
    this.modelLoads.set(extra.modelLoads);
    this.modelVersion.set(extra.model?.version ?? 0);
    if (extra.predictionLog) {
      this.logWritten.set(extra.predictionLog.written);
      this.logDropped.set(extra.predictionLog.dropped);
    }
    this.uptime.set((Date.now() - this.startedAt) / 1000);
    return this.register.metrics();
  }
}
