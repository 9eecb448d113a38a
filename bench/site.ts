import { rmSync } from 'node:fs';
import type { Connection } from '@temporalio/client';
import type { LocalStack } from '../stack/local-stack';
import type { Store } from '../store/db';

/** A bench's own database and Temporal connection, released after its worker stopped. */
export async function closeBenchStore(connection: Connection, store: Store): Promise<void> {
  await connection.close();
  await store.db.dropDatabase().catch(() => undefined);
  await store.close();
}

/** A bench's private stack and temp dir, released last. */
export async function closeBenchStack(stack: LocalStack | null, tmp: string): Promise<void> {
  await stack?.stop();
  rmSync(tmp, { recursive: true, force: true });
}
