import { loadConfig, type Config } from '../../config';
import { startApi, type RunningApi } from '../../api/server';
import { testEnv } from '../helpers/stack';
import type { Logger } from '../../obs/logger';
import { checkDocumented } from './conformance';

export const TOKEN = 'test-token-0123456789abcdef';

/** An API process on a free port against the test stack and `dbName`. */
export async function startTestApi(dbName: string, overrides: NodeJS.ProcessEnv = {}, logger?: Logger): Promise<{ api: RunningApi; config: Config }> {
  const config = loadConfig(testEnv(dbName, { PORT: '0', API_TOKEN: TOKEN, MODEL_POLL_MS: '200', TASK_QUEUE: `q-${dbName}`, ...overrides }));
  const api = await startApi(config, { log: () => undefined, logger });
  return { api, config };
}

/** fetch + JSON, never throwing on HTTP status. */
export async function call(url: string, init: { method?: string; body?: unknown; token?: string | null; type?: string; raw?: string | Buffer } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | Buffer | undefined;
  if (init.raw !== undefined) {
    body = init.raw;
    headers['content-type'] = init.type ?? 'application/json';
  } else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = init.type ?? 'application/json';
  }
  const method = init.method ?? (body === undefined ? 'GET' : 'POST');
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  checkDocumented(method, url, res.status, res.headers.get('content-type'), json);
  return { status: res.status, json, text, headers: res.headers };
}

export const USER = { user_id: 'u1', first_open: '2026-03-01 20:15:00', screen_list: 'home,product_details,cart,checkout', age: 31 };
