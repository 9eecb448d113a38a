import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';
import { withTimeout } from '../common/timeout';
import { temporalAddress, unreachable } from '../client/connection';

/** A worker-side connection, failing within a bounded time with the address it tried. */
export async function connectWorkerTemporal(config: Config, timeoutMs = 10_000): Promise<NativeConnection> {
  const address = temporalAddress(config);
  try {
    return await withTimeout(NativeConnection.connect({ address }), timeoutMs, unreachable(address));
  } catch (err) {
    throw new Error(unreachable(address, err));
  }
}
