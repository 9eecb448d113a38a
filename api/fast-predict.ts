import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { asHttpError, errorBody, HttpError } from './errors';
import { observeResponse } from './observe';
import { predictResponse } from './routes/predict';
import type { AppDeps } from './deps';
import type { Metrics } from './metrics';

/** Largest JSON body, here and for Express's parser (app.ts): PREDICT_MAX_BATCH users of generous size fit; anything bigger is 413. */
export const JSON_LIMIT_BYTES = 2 * 1024 * 1024;

/** The path the fast path answers, and the route label its metrics carry (the Express route's). */
const PATH = '/v1/predict';
/** What body-parser's strict mode takes: the first non-blank character opens an object or an array. */
const FIRST = /^[\x20\x09\x0a\x0d]*(.)/s;

/** The requests the fast path answers: the common spelling of a JSON POST to /v1/predict. */
function isPlainJsonPost(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  const h: IncomingHttpHeaders = req.headers;
  return req.method === 'POST'
    && (url === PATH || url.startsWith(`${PATH}?`))
    && h['content-type'] === 'application/json'
    && (h['content-encoding'] === undefined || h['content-encoding'] === 'identity')
    && (h['transfer-encoding'] !== undefined || !Number.isNaN(Number(h['content-length'])));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  // encoded once: its length and the bytes written come from the same buffer
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.length });
  res.end(bytes);
}

const tooLarge = () => new HttpError(413, 'body-too-large', `request body exceeds the limit of ${JSON_LIMIT_BYTES} bytes`);

/** The body as JSON the way express.json({ strict: true }) reads it: empty is {}, a BOM is dropped, only objects and arrays. */
function parseJson(text: string): unknown {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (s.length === 0) return {};
  const first = FIRST.exec(s)?.[1];
  if (first !== '{' && first !== '[') throw new HttpError(400, 'invalid-json', `request body is not valid JSON: expected an object or an array, got ${JSON.stringify(s.slice(0, 20))}`);
  try {
    return JSON.parse(s);
  } catch (err) {
    throw new HttpError(400, 'invalid-json', `request body is not valid JSON: ${String((err as Error).message).slice(0, 200)}`);
  }
}

/**
 * The server's request listener: POST /v1/predict with `Content-Type: application/json` is
 * answered here, without Express; every other request goes to `app`. Per request Express gave
 * the hot route a prototype swap, a middleware chain, the router's matching, body-parser's
 * content-type and charset handling and res.json's freshness checks: ~75 µs of CPU against ~20
 * µs for scoring a user (bench predict, bench/README.md). The answers are the route's own
 * (`predictResponse`, the same JSON errors, the same request id, access line and metrics); a
 * request in any other form (a charset parameter, a compressed body, a trailing slash) takes the
 * Express route, which answers it the same way.
 */
export function withFastPredict(app: (req: IncomingMessage, res: ServerResponse) => void, deps: AppDeps & { metrics: Metrics }): (req: IncomingMessage, res: ServerResponse) => void {
  const log = deps.log;
  const logError = log ? (m: string) => log.error(m) : undefined;
  return (req, res) => {
    if (!isPlainJsonPost(req)) {
      app(req, res);
      return;
    }
    const url = req.url!;
    const id = observeResponse(req, res, deps.metrics, log, () => PATH, () => url);
    const fail = (err: unknown) => {
      const e = asHttpError(err, logError);
      if (!res.headersSent) send(res, e.status, errorBody(e));
    };
    const declared = Number(req.headers['content-length']);
    if (declared > JSON_LIMIT_BYTES) {
      fail(tooLarge());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > JSON_LIMIT_BYTES) {
        refused = true;
        chunks.length = 0;
        fail(tooLarge());
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      try {
        const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
        const q = url.indexOf('?');
        const explain = q < 0 ? undefined : parseQuery(url.slice(q + 1)).explain;
        predictResponse(deps, parseJson(text), explain, id).then((body) => send(res, 200, body), fail);
      } catch (err) {
        fail(err);
      }
    });
    // a client that goes away mid-body: nothing to answer, the access line says "aborted"
    req.on('error', () => undefined);
  };
}
