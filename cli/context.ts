import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../config';
import { connectStore, type Store } from '../store/db';
import { connectClient } from '../client/connection';

export const DEFAULT_MONGODB_URI = 'mongodb://127.0.0.1:27017';

/** Connections a command needs, opened lazily and closed by `close()`. */
export class CliContext {
  private store: Store | null = null;
  private client: Client | null = null;
  readonly config: Config;

  constructor(readonly env: NodeJS.ProcessEnv = process.env, readonly json = false) {
    this.config = loadConfig(env);
  }

  async db() {
    this.store ??= await connectStore(this.config.MONGODB_URI ?? DEFAULT_MONGODB_URI, this.config.MONGODB_DB);
    return this.store.db;
  }

  async temporal(): Promise<Client> {
    this.client ??= await connectClient(this.config);
    return this.client;
  }

  /** Prints a result: JSON with --json, else the human line(s). */
  out(value: unknown, human?: string): void {
    if (this.json || human === undefined) console.log(JSON.stringify(value, null, this.json ? 0 : 2));
    else console.log(human);
  }

  async close(): Promise<void> {
    await this.client?.connection.close().catch(() => undefined);
    await this.store?.close().catch(() => undefined);
  }
}
