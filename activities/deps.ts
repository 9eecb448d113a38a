import type { Db } from 'mongodb';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';

/** What every activity factory receives; no module-level clients anywhere. */
export interface ActivityDeps {
  db: Db;
  config: Config;
  /** Identity of this worker process, recorded on grid-search cells (scale-out proof). */
  workerIdentity: string;
  /** A Temporal client for activities that ask Temporal about other workflows (run state). */
  temporal?: Client;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}
