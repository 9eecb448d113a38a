import { getRun } from '../store/runs';
import { trainingSettings } from '../config';
import type { TrainingSettings } from '../common/workflow-types';
import type { ActivityDeps } from './deps';

export type RunState = 'running' | 'completed' | 'failed' | 'unknown';

/** Temporal's execution status names → what the monitor needs to know. */
const FROM_TEMPORAL: Record<string, RunState> = {
  RUNNING: 'running', CONTINUED_AS_NEW: 'running', COMPLETED: 'completed',
  FAILED: 'failed', TERMINATED: 'failed', TIMED_OUT: 'failed', CANCELLED: 'failed',
};

export function createRunActivities({ db, config, temporal }: ActivityDeps) {
  return {
    /**
     * The training settings a run started now should use: this worker's configuration at this
     * moment (a redeployed worker with a new PARAM_GRID changes the next monitor-started run),
     * never those frozen into the monitor's input when it was first started.
     */
    async currentTrainingSettings(args: { modelName: string }): Promise<TrainingSettings> {
      return { ...trainingSettings(config), modelName: args.modelName };
    },

    /**
     * Whether a training run (by workflow id) is still running, asked of Temporal itself: a run
     * terminated from the UI or timed out never writes `failed` into its run document, and a
     * monitor that trusted the document stayed "retraining" forever. Falls back to the run
     * document only when this worker has no Temporal client.
     */
    async runState(args: { runId: string }): Promise<{ state: RunState; detail: string }> {
      if (temporal) {
        try {
          const d = await temporal.workflow.getHandle(args.runId).describe();
          const state = FROM_TEMPORAL[d.status.name] ?? 'unknown';
          return { state, detail: `Temporal reports ${d.status.name}` };
        } catch (err) {
          if ((err as Error).name === 'WorkflowNotFoundError') return { state: 'unknown', detail: 'Temporal does not know this run' };
          throw err;
        }
      }
      const run = await getRun(db, args.runId);
      return { state: (run?.status as RunState | undefined) ?? 'unknown', detail: 'from the run document (no Temporal client on this worker)' };
    },
  };
}
