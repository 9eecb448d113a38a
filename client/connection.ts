import { Connection, Client } from '@temporalio/client';
import type { Config } from '../config';
import { withTimeout } from '../common/timeout';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export function temporalAddress(config: Config): string {
  return config.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS;
}

/** The error text when Temporal cannot be reached (client and worker connections). */
export const unreachable = (address: string, err?: unknown) =>
  `cannot reach Temporal at ${address}${err ? `: ${(err as Error).message?.split('\n')[0]}` : ' within 10 s'}`;

/** A client-side connection (CLI, API, tests), failing within a bounded time with the address it tried. */
export async function connectClient(config: Config, timeoutMs = 10_000): Promise<Client> {
  const address = temporalAddress(config);
  try {
    const connection = await withTimeout(Connection.connect({ address, connectTimeout: timeoutMs }), timeoutMs, unreachable(address));
    return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  } catch (err) {
    throw new Error(unreachable(address, err));
  }
}
