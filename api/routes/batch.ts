import { PassThrough, Transform, type Readable } from 'node:stream';
import { Router, type Request } from 'express';
import busboy from 'busboy';
import { readUserLogs } from '../../data/csv-reader';
import { transformBatch } from '../../data/features';
import { IngestFileError } from '../../data/errors';
import type { UserRecord } from '../../data/record';
import { HttpError } from '../errors';
import { requestIdOf } from '../observe';
import { servingShape } from '../scoring';
import { currentModel } from './predict';
import type { AppDeps } from '../deps';
import { csvCell } from '../../data/csv-cell';

const CHUNK = 512;

/** Fails the stream with 413 once more than `max` bytes went through. */
function byteLimit(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > max) cb(new HttpError(413, 'body-too-large', `CSV upload exceeds the limit of ${max} bytes (BATCH_MAX_BYTES)`));
      else cb(null, chunk);
    },
  });
}

/** The CSV bytes of the request: the raw body (text/csv) or the first file of a multipart form. */
function csvSource(req: Request, max: number): Readable {
  const declared = Number(req.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max + 64 * 1024) {
    throw new HttpError(413, 'body-too-large', `CSV upload of ${declared} bytes exceeds the limit of ${max} bytes (BATCH_MAX_BYTES)`);
  }
  if (req.is('text/csv') || req.is('application/csv') || req.is('text/plain')) {
    const limited = byteLimit(max);
    req.on('error', (e) => limited.destroy(e));
    return req.pipe(limited);
  }
  if (req.is('multipart/form-data')) {
    const out = new PassThrough();
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: max, fields: 20, parts: 30 } });
    } catch (err) {
      throw new HttpError(400, 'bad-multipart', `multipart body is unreadable: ${(err as Error).message}`);
    }
    let gotFile = false;
    bb.on('file', (_name, file) => {
      gotFile = true;
      file.on('limit', () => out.destroy(new HttpError(413, 'body-too-large', `CSV upload exceeds the limit of ${max} bytes (BATCH_MAX_BYTES)`)));
      file.pipe(out);
    });
    bb.on('error', (e) => out.destroy(new HttpError(400, 'bad-multipart', `multipart body is unreadable: ${(e as Error).message}`)));
    bb.on('close', () => {
      if (!gotFile) out.destroy(new HttpError(400, 'missing-file', 'multipart form has no file part: send the CSV as a file field named "file"'));
    });
    req.pipe(bb);
    return out;
  }
  throw new HttpError(415, 'unsupported-media-type', `send the CSV with Content-Type: text/csv or as multipart/form-data (got ${JSON.stringify(req.get('content-type') ?? null)})`);
}


/**
 * POST /v1/predict/batch: a CSV of raw users in, a CSV of `line,user_id,probability,decision,error`
 * out, streamed both ways with one model version for the whole file. Bad rows come back with
 * their reason; whole-file faults found before the first row (header, encoding) are a 4xx JSON
 * error; a fault found later (size limit, broken quoting) ends the response with an `error` row
 * and aborts the connection, so a client never mistakes a truncated result for a complete one.
 */
export function batchRouter(deps: AppDeps): Router {
  const r = Router();
  r.post('/v1/predict/batch', async (req, res) => {
    const m = currentModel(deps);
    const shape = servingShape(m);
    const source = csvSource(req, deps.config.BATCH_MAX_BYTES);
    const model = { name: m.modelName, version: m.version };
    const requestId = requestIdOf(res);
    const pending: { line: number; record: UserRecord }[] = [];
    let started = false;
    let scoredCount = 0;
    const begin = () => {
      if (started) return;
      started = true;
      res.status(200).set({
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="predictions-${m.modelName}-v${m.version}.csv"`,
        'x-request-id': requestId, 'x-model-name': m.modelName, 'x-model-version': String(m.version),
      });
      res.write('line,user_id,probability,decision,error\n');
    };
    const flush = async () => {
      if (pending.length === 0) return;
      const users = pending.map((p) => p.record);
      const X = transformBatch(m.spec, users);
      const proba = m.model.predictProba({ data: X, rows: users.length, cols: m.spec.names.length });
      let text = '';
      const logged: { user_id: string; probability: number; decision: boolean; firstOpen: number }[] = [];
      for (let i = 0; i < users.length; i++) {
        const p = proba[i]!;
        const decision = p >= m.threshold;
        text += `${pending[i]!.line},${csvCell(users[i]!.userId)},${p},${decision ? 1 : 0},\n`;
        logged.push({ user_id: users[i]!.userId, probability: p, decision, firstOpen: users[i]!.firstOpen });
      }
      deps.predictionLog?.record(model, logged);
      deps.metrics?.countPredictions(m.modelName, m.version, users.length);
      scoredCount += users.length;
      pending.length = 0;
      begin();
      // Back-pressure: a slow client must not make us buffer the whole result.
      if (!res.write(text)) await new Promise((resolve) => res.once('drain', resolve));
    };
    try {
      for await (const row of readUserLogs(source, { fileName: 'upload', mapping: shape.mapping })) {
        if (row.kind === 'reject') {
          await flush();
          begin();
          res.write(`${row.line},,,,${csvCell(`${row.reason}: ${row.detail}`)}\n`);
        } else {
          pending.push({ line: row.line, record: row.record });
          if (pending.length >= CHUNK) await flush();
        }
      }
      await flush();
      if (!started && scoredCount === 0) begin();
      res.end();
    } catch (err) {
      source.destroy();
      const e = err instanceof HttpError ? err
        : err instanceof IngestFileError ? new HttpError(400, err.code, err.message, err.column ? [{ field: err.column, rule: err.code, message: err.message }] : undefined)
          : null;
      if (!started) throw e ?? err;
      const msg = e ? `${e.code}: ${e.message}` : 'internal: scoring stopped';
      res.write(`,,,,${csvCell(`aborted: ${msg}`)}\n`, () => res.destroy());
    }
  });
  return r;
}
