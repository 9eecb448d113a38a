import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../../api/metrics';
import { observeRequests, requestIdOf } from '../../../api/observe';

type Line = { level: number; msg: string; req: { id: string; method: string; url: string }; res: { statusCode: number | null }; responseTime: number };

describe('observeRequests: one access-log line and the metrics per request, over a real socket', () => {
  const logged: Line[] = [];
  const metrics = new Metrics(new Registry());
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const app = express();
    app.use(observeRequests(metrics, pino({ level: 'info' }, { write: (l: string) => void logged.push(JSON.parse(l)) })));
    app.use(express.json());
    app.post('/echo/:n', (req, res) => void res.json({ id: requestIdOf(res), body: req.body }));
    app.get('/boom', () => { throw new Error('boom'); });
    app.use(((_err, _req, res, _next) => void res.status(500).json({ error: 'internal' })) as express.ErrorRequestHandler);
    server = await new Promise<Server>((r) => { const s = app.listen(0, '127.0.0.1', () => r(s)); });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const count = async (series: string) => {
    const text = await metrics.register.metrics();
    return Number(text.split('\n').find((l) => l.startsWith(series))?.split(' ')[1] ?? 0);
  };

  it('a completed request: info, the id the response carries, the route pattern as the metric label, the full url', async () => {
    const r = await fetch(`${base}/echo/7?x=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    const body = await r.json() as { id: string };
    expect(r.headers.get('x-request-id')).toBe(body.id);
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    await expect.poll(() => logged.filter((l) => l.req.id === body.id).length).toBe(1);
    await new Promise((r) => setTimeout(r, 100)); // and no second line later
    expect(logged.filter((l) => l.req.id === body.id)).toHaveLength(1);
    expect(logged.find((l) => l.req.id === body.id)).toMatchObject({ level: 30, msg: 'request completed', req: { method: 'POST', url: '/echo/7?x=1' }, res: { statusCode: 200 } });
    expect(await count('retail24_http_requests_total{method="POST",route="/echo/:n",status="200"}')).toBe(1);
  });

  it('a caller\'s sane X-Request-Id is kept, an unsafe one replaced', async () => {
    const kept = await fetch(`${base}/echo/1`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'campaign-42.batch-7' }, body: '{}' });
    expect(kept.headers.get('x-request-id')).toBe('campaign-42.batch-7');
    const replaced = await fetch(`${base}/echo/1`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'has space<script>' }, body: '{}' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a 5xx is an error line "request errored"', async () => {
    const r = await fetch(`${base}/boom`);
    expect(r.status).toBe(500);
    const id = r.headers.get('x-request-id')!;
    await expect.poll(() => logged.find((l) => l.req.id === id)?.msg).toBe('request errored');
    expect(logged.find((l) => l.req.id === id)!.level).toBe(50);
  });

  it('a client that goes away before the response: a warning "request aborted", and no made-up status in the metrics', async () => {
    const posts = () => count('retail24_http_requests_total{method="POST",route="unmatched"');
    const before = await posts();
    // a body announced as 100 bytes, 10 sent, then the socket closed: the JSON parser is still waiting
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write('POST /echo/3 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nX-Request-Id: abort-1\r\n\r\n{"a":12345');
        setTimeout(() => { s.destroy(); resolve(); }, 100);
      });
    });
    await expect.poll(() => logged.find((l) => l.req.id === 'abort-1')?.msg).toBe('request aborted');
    expect(logged.find((l) => l.req.id === 'abort-1')).toMatchObject({ level: 40, res: { statusCode: null } });
    expect(await posts()).toBe(before);
    expect(await count('retail24_http_requests_total{method="POST",route="/echo/:n",status="200"}')).toBe(3);
  });
});
