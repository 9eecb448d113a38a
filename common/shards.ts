/**
 * How many tree shards a refit is split into (workflow-safe: a pure function of the run's settings
 * and of activity results). A shard is a range of tree indices fitted by one activity, so the
 * shards of one refit spread over every worker process polling the task queue; the merged forest
 * is bit-identical to the unsharded fit (ml/forest.ts `fitTreeRange`).
 *
 * - `refitShards` absent (a run recorded before shards existed): 1, no sharding.
 * - fewer training rows than `refitShardMinRows`: 1. Below it the whole fit takes seconds
 *   (200 trees of depth 12 on 50,000 rows: 4.7 s on 2 cores, bench/README.md), which the extra
 *   activities, shard blobs and merge would not win back.
 * - `refitShards` 0 (auto): one shard per distinct worker that ran this run's grid cells, the
 *   workers measured on the queue minutes ago; `refitShards` n: n.
 * - never more shards than trees, and the ml-random-forest engine is never sharded.
 */
import type { EngineName } from './engines';
import type { TrainingSettings } from './workflow-types';

export const DEFAULT_REFIT_SHARD_MIN_ROWS = 100_000;

export function refitShardCount(
  settings: Pick<TrainingSettings, 'refitShards' | 'refitShardMinRows'> & { engine: EngineName },
  trainRows: number,
  gridWorkers: number,
  nTrees: number,
): number {
  if (settings.refitShards === undefined || settings.engine !== 'retail24') return 1;
  if (trainRows < (settings.refitShardMinRows ?? DEFAULT_REFIT_SHARD_MIN_ROWS)) return 1;
  const wanted = settings.refitShards === 0 ? gridWorkers : settings.refitShards;
  return Math.max(1, Math.min(wanted, nTrees));
}
