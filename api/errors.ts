import type { ErrorRequestHandler, RequestHandler } from 'express';

/** The one API error: status, stable code, message, optional details (e.g. field errors). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not-found', `no route for ${req.method} ${req.path}`));
};

/**
 * Any error as the HttpError the client gets: body-parser failures keep their 4xx status;
 * anything unexpected is a 500 with no stack trace to the client (and is logged).
 */
export function asHttpError(err: unknown, log: (msg: string) => void = console.error): HttpError {
  const x = err as { type?: unknown; message?: unknown; limit?: unknown; status?: unknown; stack?: unknown } | null | undefined;
  if (err instanceof HttpError) return err;
  if (x?.type === 'entity.parse.failed') return new HttpError(400, 'invalid-json', `request body is not valid JSON: ${String(x.message).slice(0, 200)}`);
  if (x?.type === 'entity.too.large') return new HttpError(413, 'body-too-large', `request body exceeds the limit of ${String(x.limit)} bytes`);
  if (typeof x?.status === 'number' && x.status >= 400 && x.status < 500) return new HttpError(x.status, String(x.type ?? 'bad-request'), String(x.message));
  log(`api: unexpected error: ${String(x?.stack ?? err)}`);
  return new HttpError(500, 'internal', 'internal error');
}

/** The JSON body of an error response. */
export function errorBody(e: HttpError): { error: { code: string; message: string; details?: unknown } } {
  return { error: { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) } };
}

/** Every error becomes JSON `{ error: { code, message, details? } }` (see {@link asHttpError}). */
export function errorHandler(log: (msg: string) => void = console.error): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const e = asHttpError(err, log);
    if (res.headersSent) return;
    res.status(e.status).json(errorBody(e));
  };
}
