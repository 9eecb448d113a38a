import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './errors';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Bearer-token guard for mutating endpoints. Tokens are compared as SHA-256 digests with
 * `timingSafeEqual`, so neither the content nor the length of the expected token leaks through
 * response timing. 401 when no credentials are sent, 403 when they are wrong, 503 when the
 * server has no token configured (nobody may mutate, and the message says how to fix it).
 */
export function requireToken(expected: string | undefined): RequestHandler {
  const want = expected ? digest(expected) : null;
  return (req, res, next) => {
    if (!want) throw new HttpError(503, 'auth-not-configured', 'this API has no API_TOKEN configured, so mutating endpoints are disabled: set API_TOKEN (at least 16 characters)');
    const header = req.get('authorization');
    if (!header) {
      res.set('WWW-Authenticate', 'Bearer realm="retail24"');
      throw new HttpError(401, 'unauthorized', 'missing Authorization header: send "Authorization: Bearer <API_TOKEN>"');
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) {
      res.set('WWW-Authenticate', 'Bearer realm="retail24", error="invalid_request"');
      throw new HttpError(401, 'unauthorized', 'Authorization header must be "Bearer <API_TOKEN>"');
    }
    if (!timingSafeEqual(digest(m[1]!), want)) throw new HttpError(403, 'forbidden', 'the bearer token is not valid for this API');
    next();
  };
}

/** Constant-time check of a token typed into a page form (the promote / roll back buttons). */
export function tokenMatches(expected: string | undefined, given: unknown): boolean {
  if (!expected || typeof given !== 'string' || given === '') return false;
  return timingSafeEqual(digest(given), digest(expected));
}
