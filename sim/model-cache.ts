/**
 * Registered versions loaded once each, for scoring the serving model and the one it replaced
 * against the truth on the same users.
 */
import type { Db } from 'mongodb';
import type { UserRecord } from '../data/record';
import { loadVersion, type LoadedModel } from '../store/model-loader';
import type { TruthUser } from './exports';
import { recordsOf, trueMetrics, type TrueMetrics } from './scoring';

export class ModelCache {
  private readonly loaded = new Map<number, LoadedModel>();

  constructor(private readonly db: Db, private readonly modelName: string, private readonly targetRecall: number) {}

  records(users: readonly TruthUser[]): Promise<UserRecord[]> {
    return recordsOf(users);
  }

  async model(version: number): Promise<LoadedModel> {
    let m = this.loaded.get(version);
    if (!m) {
      const l = await loadVersion(this.db, this.modelName, version);
      if (!l) throw new Error(`model ${this.modelName} v${version} is not in the registry`);
      this.loaded.set(version, (m = l));
    }
    return m;
  }

  async score(version: number, records: readonly UserRecord[], labels: Uint8Array): Promise<TrueMetrics> {
    return trueMetrics(await this.model(version), records, labels, this.targetRecall);
  }
}
