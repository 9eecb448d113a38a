/**
 * Drives the real monitor workflow by messages only (no wall-clock intervals): ask for a check,
 * wait until it is answered, wait until the run it started is over. A bound that passes means the
 * monitor stopped acting: a {@link WedgedError}, which the replay records as `wedged`.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { checkNowSignal, statusQuery, type MonitorStatus } from '../common/messages';

/** Thrown when the monitor did not answer a check, or a run stayed current, within its bound. */
export class WedgedError extends Error {
  constructor(readonly what: 'check' | 'run' | 'start', readonly waitedMs: number, readonly status: MonitorStatus | null) {
    super(`monitor wedged: ${what === 'check' ? 'checkNow not answered' : what === 'run' ? `run ${status?.currentRun ?? '?'} still current` : 'first check not settled'} after ${Math.round(waitedMs / 1000)} s`);
    this.name = 'WedgedError';
  }
}

const POLL_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class MonitorDriver {
  constructor(private readonly handle: WorkflowHandle) {}

  status(): Promise<MonitorStatus> {
    return this.handle.query(statusQuery);
  }

  /**
   * Signals `checkNow` and waits for a check that began after the signal (the status publishes a
   * check only once acted on, so the run it started, if any, is already in `currentRun`).
   */
  async checkNow(timeoutMs: number): Promise<MonitorStatus> {
    const sentAt = Date.now();
    await this.handle.signal(checkNowSignal);
    return this.until((s) => s.lastCheck !== null && Date.parse(s.lastCheck) >= sentAt, timeoutMs, 'check');
  }

  /** Waits until no run is current (the monitor wakes itself when its child completes). */
  waitIdle(timeoutMs: number): Promise<MonitorStatus> {
    return this.until((s) => s.currentRun === null, timeoutMs, 'run');
  }

  /** Waits until the monitor is not checking (e.g. a check it runs at start). */
  waitSettled(timeoutMs: number): Promise<MonitorStatus> {
    return this.until((s) => s.state !== 'checking', timeoutMs, 'start');
  }

  private async until(ok: (s: MonitorStatus) => boolean, timeoutMs: number, what: WedgedError['what']): Promise<MonitorStatus> {
    const t0 = Date.now();
    let last: MonitorStatus | null = null;
    while (Date.now() - t0 < timeoutMs) {
      // A query can fail transiently (e.g. before a fresh workflow's first task); the bound decides.
      const s = await this.status().catch(() => null);
      if (s) {
        last = s;
        if (ok(s)) return s;
      }
      await sleep(POLL_MS);
    }
    throw new WedgedError(what, Date.now() - t0, last);
  }
}

/** Monitor history entries not in `seen` (oldest first); adds them to `seen`. */
export function newHistory(status: MonitorStatus, seen: Set<string>): MonitorStatus['history'] {
  const fresh: MonitorStatus['history'] = [];
  for (const h of [...status.history].reverse()) {
    const key = `${h.at}|${h.trigger}|${h.runId ?? ''}|${h.note}`;
    if (seen.has(key)) continue;
    seen.add(key);
    fresh.push(h);
  }
  return fresh;
}
