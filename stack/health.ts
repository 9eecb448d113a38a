import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { SEARCH_ATTRIBUTES } from '../common/constants';
import { tailLog, type ServiceProcess } from './service';

/** Thrown when a service does not answer within its time bound; the message names it and its log. */
export class ServiceUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceUnavailableError';
  }
}

// temporal.api.enums.v1.IndexedValueType; numeric because @temporalio/proto is not a direct dependency.
const KEYWORD = 2;
const INT = 3;

/** Search attributes the workflows set (names from common/constants.ts) and their index types. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, { type: 'Keyword' | 'Int'; code: number }> = {
  [SEARCH_ATTRIBUTES.modelName]: { type: 'Keyword', code: KEYWORD },
  [SEARCH_ATTRIBUTES.modelVersion]: { type: 'Int', code: INT },
  [SEARCH_ATTRIBUTES.triggerReason]: { type: 'Keyword', code: KEYWORD },
  [SEARCH_ATTRIBUTES.outcome]: { type: 'Keyword', code: KEYWORD },
};

interface WaitOptions {
  timeoutMs: number;
  /** When the stack started the service: its early exit ends the wait with its log tail. */
  service?: ServiceProcess;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function checkAlive(service: ServiceProcess | undefined, what: string): void {
  const status = service?.exitStatus();
  if (service && status) {
    throw new ServiceUnavailableError(
      `${what} ${status} during start-up (log ${service.logFile}): ${tailLog(service.logFile)}`,
    );
  }
}

/**
 * Waits until the Temporal frontend at address answers and the namespace exists.
 * @throws ServiceUnavailableError naming the address (and log file) after timeoutMs.
 */
export async function waitForTemporal(address: string, namespace: string, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    checkAlive(opts.service, `Temporal server (${address})`);
    let conn: Connection | undefined;
    try {
      conn = await Connection.connect({ address, connectTimeout: Math.min(5000, Math.max(500, deadline - Date.now())) });
      await conn.workflowService.describeNamespace({ namespace });
      return;
    } catch (err) {
      last = err;
    } finally {
      await conn?.close().catch(() => undefined);
    }
    await sleep(500);
  }
  const where = opts.service ? ` (log ${opts.service.logFile})` : '';
  throw new ServiceUnavailableError(
    `Temporal at ${address} not reachable within ${opts.timeoutMs / 1000}s${where}: ${(last as Error)?.message ?? last}`,
  );
}

/**
 * Registers the retail24 search attributes that are missing. Needed after start because the dev
 * server applies `--search-attribute` only when it creates a fresh database file (measured with
 * CLI 1.9.1), and an older `.data/` may predate an attribute.
 */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const conn = await Connection.connect({ address, connectTimeout: 5000 });
  try {
    const existing = await conn.operatorService.listSearchAttributes({ namespace });
    const have = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = Object.entries(SEARCH_ATTRIBUTE_TYPES).filter(([name]) => !have.has(name));
    if (missing.length === 0) return [];
    await conn.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, t]) => [name, t.code])),
    });
    return missing.map(([name]) => name);
  } finally {
    await conn.close();
  }
}

/**
 * Waits until the MongoDB-protocol server at uri answers a ping.
 * @throws ServiceUnavailableError naming the uri (and log file) after timeoutMs.
 */
export async function waitForMongo(uri: string, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    checkAlive(opts.service, `MongoDB-protocol server (${uri})`);
    const t = Math.min(3000, Math.max(300, deadline - Date.now()));
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: t, connectTimeoutMS: t });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      last = err;
    } finally {
      await client.close().catch(() => undefined);
    }
    await sleep(300);
  }
  const where = opts.service ? ` (log ${opts.service.logFile})` : '';
  throw new ServiceUnavailableError(
    `MongoDB at ${uri.replace(/\/\/[^@/]*@/, '//***@')} not reachable within ${opts.timeoutMs / 1000}s${where}: ` +
      `${(last as Error)?.message ?? last}`,
  );
}
