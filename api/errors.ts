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
 * Every error becomes JSON `{ error: { code, message, details? } }`; body-parser failures keep
 * their 4xx status; anything unexpected is a 500 with no stack trace to the client.
 */
export function errorHandler(log: (msg: string) => void = console.error): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if (err?.type === 'entity.parse.failed') e = new HttpError(400, 'invalid-json', `request body is not valid JSON: ${String(err.message).slice(0, 200)}`);
    else if (err?.type === 'entity.too.large') e = new HttpError(413, 'body-too-large', `request body exceeds the limit of ${err.limit} bytes`);
    else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) e = new HttpError(err.status, String(err.type ?? 'bad-request'), String(err.message));
    else {
      log(`api: unexpected error: ${err?.stack ?? err}`);
      e = new HttpError(500, 'internal', 'internal error');
    }
    if (res.headersSent) return;
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) } });
  };
}
