import type { RequestHandler } from 'express';

/** Latency buckets in seconds: sub-millisecond resolution where the scoring path lives. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

export interface RenderExtras {
  model: { name: string; version: number; loadMs: number } | null;
  modelLoads: number;
  predictionLog?: { written: number; dropped: number };
}

interface Histogram {
  counts: Float64Array; // one per bucket; +Inf is `count`
  sum: number;
  count: number;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * Process-local Prometheus metrics, rendered by hand in the text exposition format (version
 * 0.0.4). Each API process exposes its own counters; Prometheus sums them across replicas.
 * Route labels are route patterns (`/v1/models/:name/versions`), never raw paths, so the label
 * set stays bounded however clients misbehave.
 */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly predictions = new Map<string, number>();
  private readonly startedAt = Date.now();

  /** Middleware timing every request; the route label is resolved when the response finishes. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const t0 = performance.now();
      res.once('finish', () => {
        const pattern = (req.route as { path?: unknown } | undefined)?.path;
        const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
        this.observe(req.method, route, res.statusCode, (performance.now() - t0) / 1000);
      });
      next();
    };
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method}\u0000${route}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const hkey = `${method}\u0000${route}`;
    let h = this.latency.get(hkey);
    if (!h) this.latency.set(hkey, (h = { counts: new Float64Array(LATENCY_BUCKETS.length), sum: 0, count: 0 }));
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  countPredictions(model: string, version: number, n: number): void {
    const key = `${model}\u0000${version}`;
    this.predictions.set(key, (this.predictions.get(key) ?? 0) + n);
  }

  /** The exposition text; model and log state are read from their owners at scrape time. */
  render(extra: RenderExtras = { model: null, modelLoads: 0 }): string {
    const out: string[] = [];
    out.push('# HELP retail24_http_requests_total HTTP requests by method, route pattern and status.', '# TYPE retail24_http_requests_total counter');
    for (const [key, n] of this.requests) {
      const [method, route, status] = key.split('\u0000');
      out.push(`retail24_http_requests_total{method="${method}",route="${escapeLabel(route!)}",status="${status}"} ${n}`);
    }
    out.push('# HELP retail24_http_request_duration_seconds Request latency by method and route pattern.', '# TYPE retail24_http_request_duration_seconds histogram');
    for (const [key, h] of this.latency) {
      const [method, route] = key.split('\u0000');
      const labels = `method="${method}",route="${escapeLabel(route!)}"`;
      LATENCY_BUCKETS.forEach((le, i) => out.push(`retail24_http_request_duration_seconds_bucket{${labels},le="${le}"} ${h.counts[i]}`));
      out.push(`retail24_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.count}`);
      out.push(`retail24_http_request_duration_seconds_sum{${labels}} ${h.sum}`);
      out.push(`retail24_http_request_duration_seconds_count{${labels}} ${h.count}`);
    }
    out.push('# HELP retail24_predictions_total Users scored, by model and version.', '# TYPE retail24_predictions_total counter');
    for (const [key, n] of this.predictions) {
      const [model, version] = key.split('\u0000');
      out.push(`retail24_predictions_total{model="${escapeLabel(model!)}",version="${version}"} ${n}`);
    }
    out.push('# HELP retail24_model_load_seconds Time to load the model version being served (blob read + deserialise).', '# TYPE retail24_model_load_seconds gauge');
    if (extra.model) out.push(`retail24_model_load_seconds{model="${escapeLabel(extra.model.name)}",version="${extra.model.version}"} ${extra.model.loadMs / 1000}`);
    out.push('# HELP retail24_model_loads_total Model versions loaded by this process (start plus alias swaps).', '# TYPE retail24_model_loads_total counter');
    out.push(`retail24_model_loads_total ${extra.modelLoads}`);
    out.push('# HELP retail24_model_version Version currently served (0 = none).', '# TYPE retail24_model_version gauge');
    out.push(`retail24_model_version ${extra.model?.version ?? 0}`);
    if (extra.predictionLog) {
      out.push('# HELP retail24_prediction_log_written_total Prediction records written to MongoDB.', '# TYPE retail24_prediction_log_written_total counter');
      out.push(`retail24_prediction_log_written_total ${extra.predictionLog.written}`);
      out.push('# HELP retail24_prediction_log_dropped_total Prediction records dropped (buffer full or write failed).', '# TYPE retail24_prediction_log_dropped_total counter');
      out.push(`retail24_prediction_log_dropped_total ${extra.predictionLog.dropped}`);
    }
    out.push('# HELP retail24_process_uptime_seconds Seconds since this API process started.', '# TYPE retail24_process_uptime_seconds gauge');
    out.push(`retail24_process_uptime_seconds ${(Date.now() - this.startedAt) / 1000}`);
    return `${out.join('\n')}\n`;
  }
}
