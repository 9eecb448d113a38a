import {
  condition, continueAsNew, log, proxyActivities, setHandler, startChild, workflowInfo, ParentClosePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { TrainingSettings, Trigger } from '../common/workflow-types';
import { NON_RETRYABLE } from '../common/errors';
import { TRAINING_RUN_TIMEOUT, WORKFLOW_TYPES, trainingWorkflowId } from '../common/constants';
import { validatePolicy } from '../common/monitor-policy';
import { checkNowSignal, requestRetrainSignal, setPolicyUpdate, statusQuery, type MonitorPolicy, type MonitorStatus, type RetrainRequest } from '../common/messages';

const { monitorCheck, runState, currentTrainingSettings } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

export interface MonitorInput {
  modelName: string;
  policy: MonitorPolicy;
  settings: TrainingSettings;
  /** Checks before continueAsNew. @default CHECKS_PER_RUN (a small value records a continueAsNew history quickly) */
  checksPerRun?: number;
  /** State carried across continueAsNew. */
  carried?: Pick<MonitorStatus, 'history' | 'checks' | 'lastCheck' | 'triggers' | 'currentRun'> & { autoSuppressedAtUsers: number | null };
}

/** Checks per workflow run before continueAsNew keeps the history small. */
const CHECKS_PER_RUN = 100;
const HISTORY_KEEP = 20;

/**
 * One long-running monitor per model: checks on a timer and on signals, starts the training
 * pipeline as a child when a trigger fires or ops ask, never two runs at once.
 */
export async function modelMonitor(input: MonitorInput): Promise<void> {
  const c = input.carried;
  const status: MonitorStatus = {
    state: input.policy.paused ? 'paused' : 'idle',
    modelName: input.modelName,
    lastCheck: c?.lastCheck ?? null,
    triggers: c?.triggers ?? [],
    currentRun: c?.currentRun ?? null,
    history: c?.history ?? [],
    policy: { ...input.policy },
    checks: c?.checks ?? 0,
  };
  let autoSuppressedAtUsers = c?.autoSuppressedAtUsers ?? null;
  const requests: RetrainRequest[] = [];
  let checkRequested = false;
  let woken = false;
  /** Set when a child started by *this* run ends (its handle is lost across continueAsNew). */
  let runOutcome: string | null = null;
  // A fresh monitor checks at once, so status shows every trigger right after `up`.
  let checkAtStart = c === undefined;

  setHandler(statusQuery, () => status);
  setHandler(requestRetrainSignal, (req) => {
    requests.push({ reason: String(req?.reason ?? 'ops request'), requestedBy: req?.requestedBy });
  });
  setHandler(checkNowSignal, () => {
    checkRequested = true;
  });
  setHandler(
    setPolicyUpdate,
    (patch) => {
      status.policy = { ...status.policy, ...patch };
      woken = true;
      return status.policy;
    },
    { validator: validatePolicy },
  );

  const note = (trigger: string, reason: string, runId: string | null, started: boolean, text: string) => {
    status.history.unshift({ at: new Date().toISOString(), trigger, reason, runId, started, note: text });
    status.history.length = Math.min(status.history.length, HISTORY_KEEP);
  };

  const startRun = async (trigger: Trigger, reason: string, requestedBy?: string) => {
    if (status.currentRun) {
      note(trigger, reason, status.currentRun, false, `not started: run ${status.currentRun} is in progress`);
      return;
    }
    const workflowId = trainingWorkflowId(input.modelName, trigger, new Date().toISOString());
    // Settings as configured now, not as they were when this monitor first started (input.settings).
    const settings = await currentTrainingSettings({ modelName: input.modelName });
    const child = await startChild(WORKFLOW_TYPES.trainingPipeline, {
      workflowId,
      args: [{ settings, trigger, reason, requestedBy }],
      // A run that hangs (a lost worker pool, a stuck activity) ends and frees the monitor.
      workflowExecutionTimeout: TRAINING_RUN_TIMEOUT,
      parentClosePolicy: ParentClosePolicy.ABANDON, // a retrain outlives the monitor's continueAsNew
    });
    status.currentRun = workflowId;
    runOutcome = null;
    note(trigger, reason, workflowId, true, 'started');
    void child.result().then(
      () => (runOutcome = 'completed'),
      (err: unknown) => (runOutcome = `failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  };

  for (let i = 0; ; i++) {
    const paused = status.policy.paused;
    status.state = status.currentRun ? 'retraining' : paused ? 'paused' : 'idle';
    // A check asked for while paused is kept (not lost) and runs once the monitor resumes.
    const wake = () => requests.length > 0 || (checkRequested && !status.policy.paused) || woken || runOutcome !== null;
    let timedOut = false;
    if (checkAtStart) {
      checkAtStart = false;
      timedOut = true;
    } else if (paused) await condition(wake);
    else timedOut = !(await condition(wake, status.policy.intervalSeconds * 1000));
    woken = false;
    if (status.currentRun && (runOutcome !== null || timedOut || checkRequested)) {
      // After continueAsNew the child's handle is gone: ask Temporal for the run's real state.
      const s = runOutcome !== null ? { state: runOutcome, detail: 'child result' } : await runState({ runId: status.currentRun });
      if (s.state !== 'running') {
        note('run-finished', s.state, status.currentRun, false, `run ${status.currentRun} ${s.state} (${s.detail})`);
        status.currentRun = null;
      }
      runOutcome = null;
    }
    while (requests.length > 0) {
      const r = requests.shift()!;
      await startRun('ops', r.reason, r.requestedBy);
    }
    if ((timedOut || checkRequested) && !status.policy.paused) {
      // Consumed before the check: a checkNow arriving during it sets the flag again and wakes
      // the next iteration, so no signal is lost.
      checkRequested = false;
      status.state = 'checking';
      const startedAt = new Date().toISOString();
      const check = await monitorCheck({ modelName: input.modelName, policy: status.policy });
      const fired = check.triggers.filter((t) => t.fired);
      if (fired.length > 0) {
        const reason = fired.map((t) => `${t.name}: ${t.value?.toFixed(3)} vs ${t.threshold} (${t.detail})`).join('; ');
        log.info('retrain trigger fired', { modelName: input.modelName, reason });
        // After an automatic retrain, the same data must not trigger again and again (e.g. a
        // rejected candidate leaves drift in place): wait for new users first.
        if (autoSuppressedAtUsers === check.usersNow) note(fired[0]!.name, reason, null, false, 'not started: no new data since the last automatic retrain');
        else {
          await startRun(fired[0]!.name as Trigger, reason);
          if (status.currentRun) autoSuppressedAtUsers = check.usersNow;
        }
      }
      // Published only once acted on: a reader that sees this check also sees the run it started.
      // lastCheck is when the check began, so a reader can tell a check started after its signal.
      status.triggers = check.triggers;
      status.lastCheck = startedAt;
      status.checks++;
    }
    if ((i + 1 >= (input.checksPerRun ?? CHECKS_PER_RUN) || workflowInfo().continueAsNewSuggested) && requests.length === 0) {
      await continueAsNew<typeof modelMonitor>({
        ...input,
        policy: status.policy,
        carried: { history: status.history, checks: status.checks, lastCheck: status.lastCheck, triggers: status.triggers, currentRun: status.currentRun, autoSuppressedAtUsers },
      });
    }
  }
}

