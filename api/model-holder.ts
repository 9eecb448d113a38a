import type { Db } from 'mongodb';
import { getAlias } from '../store/registry';
import { loadVersion, type LoadedModel } from '../store/model-loader';
import { PRODUCTION_ALIAS } from '../common/constants';
import { servingShape } from './scoring';

/**
 * Follows the `production` alias in MongoDB: polls it, loads a new version off the request path
 * and swaps one reference, so requests never see a half-loaded model and every API process
 * converges on the same version within one poll interval.
 */
export class ModelHolder {
  private loaded: LoadedModel | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private refreshing: Promise<void> | null = null;
  lastError: string | null = null;
  loadCount = 0;

  constructor(
    private readonly db: Db,
    readonly modelName: string,
    private readonly pollMs: number,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  current(): LoadedModel | null {
    return this.loaded;
  }

  /** Checks the alias once; loads and swaps when it points elsewhere. Concurrent calls share one check. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    try {
      const alias = await getAlias(this.db, this.modelName, PRODUCTION_ALIAS);
      if (!alias) return;
      if (this.loaded?.version === alias.version) return;
      const next = await loadVersion(this.db, this.modelName, alias.version);
      if (!next) throw new Error(`alias ${PRODUCTION_ALIAS} points at missing version ${alias.version}`);
      // Warm up before the swap: the serving shape and the forest's single-row layout are built on
      // first use, and that cost (tens of ms) must not land on the first request after a swap.
      servingShape(next);
      next.model.predictProbaRow(new Float64Array(next.spec.names.length));
      const prev = this.loaded?.version;
      this.loaded = next;
      this.loadCount++;
      this.lastError = null;
      this.log(`model ${this.modelName}: serving v${next.version}${prev ? ` (was v${prev})` : ''}, loaded in ${next.loadMs.toFixed(0)} ms`);
    } catch (err) {
      // Keep serving the previous version; the error shows on /readyz.
      this.lastError = (err as Error).message;
      this.log(`model ${this.modelName}: refresh failed: ${this.lastError}`);
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
