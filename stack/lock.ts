import fs from 'node:fs';
import path from 'node:path';

/** Thrown when another live process owns the data dir; names the dir, the pid and what to do. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `data dir ${dataDir} is in use by a running stack (pid ${pid}): stop it (Ctrl-C in its terminal, ` +
        `or \`npx tsx scripts/local-stack.ts stop\`), or use another data dir`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface LockInfo {
  pid: number;
  startedAt: string;
  /** Process-group leaders of the services started, so a later start can clean up orphans. */
  children: { name: string; pid: number }[];
  temporalAddress?: string;
  temporalUiUrl?: string | null;
  mongoUri?: string;
}

export const lockPath = (dataDir: string): string => path.join(dataDir, 'stack.lock');

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid exists but belongs to another user, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readLock(dataDir: string): LockInfo | null {
  try {
    return JSON.parse(fs.readFileSync(lockPath(dataDir), 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

/**
 * Kills service process groups left behind by a stack whose owner died without stopping them
 * (e.g. SIGKILL). The pid is only trusted when its command line still names this data dir, so a
 * recycled pid belonging to something else is never touched.
 */
export function killOrphans(dataDir: string, info: LockInfo, log: (line: string) => void): void {
  for (const child of info.children ?? []) {
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(dataDir)) continue;
    log(`stopping orphaned ${child.name} (pid ${child.pid}) left by dead stack pid ${info.pid}`);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/**
 * Takes the data-dir lock for this process. A lock whose owner is dead is stale: its orphaned
 * services are killed and the lock is taken over.
 * @throws DataDirLockedError when a live process holds the lock.
 */
export function acquireLock(dataDir: string, log: (line: string) => void): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = lockPath(dataDir);
  const mine: LockInfo = { pid: process.pid, startedAt: new Date().toISOString(), children: [] };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(mine, null, 2), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const held = readLock(dataDir);
    // Our own pid counts as live: a second stack in this process must not take over the first's dir.
    if (held && (held.pid === process.pid || isAlive(held.pid))) throw new DataDirLockedError(dataDir, held.pid);
    if (!held) {
      // A lock created a moment ago may not be written yet: only an old unreadable one is stale.
      const ageMs = Date.now() - fs.statSync(file).mtimeMs;
      if (ageMs < 2000) throw new DataDirLockedError(dataDir, -1);
    } else {
      log(`removing stale lock ${file} (pid ${held.pid} is not running)`);
      killOrphans(dataDir, held, log);
    }
    fs.rmSync(file, { force: true });
  }
  throw new Error(`could not take lock ${file} after 3 attempts`);
}

/** Rewrites the lock (owner must be this process) with the services started so far. */
export function updateLock(dataDir: string, patch: Partial<LockInfo>): void {
  const held = readLock(dataDir);
  if (!held || held.pid !== process.pid) return;
  fs.writeFileSync(lockPath(dataDir), JSON.stringify({ ...held, ...patch }, null, 2));
}

/** Removes the lock if this process owns it. Synchronous so it can run in an 'exit' handler. */
export function releaseLock(dataDir: string): void {
  const held = readLock(dataDir);
  if (held && held.pid === process.pid) fs.rmSync(lockPath(dataDir), { force: true });
}
