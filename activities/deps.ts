import type { Db } from 'mongodb';
import type { Config } from '../config';

/** What every activity factory receives; no module-level clients anywhere. */
export interface ActivityDeps {
  db: Db;
  config: Config;
  /** Identity of this worker process, recorded on grid-search cells (scale-out proof). */
  workerIdentity: string;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}
