/**
 * Linux /proc readings shared by the benches: a process's memory (VmRSS, VmHWM) and CPU time, the
 * reset of its peak, and which process to read (a worker re-executes itself; the stack's server
 * runs under a bash supervisor).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalStack } from '../stack/local-stack';

const CLK_TCK = 100;

/** VmRSS or VmHWM of a process in MB (NaN when it is gone). */
export function procStatusMb(pid: number | 'self', key: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

/** Linux: writing 5 to clear_refs resets VmHWM to the current RSS (proc(5)). */
export function resetPeak(pid: number | 'self'): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** utime + stime of a process in seconds (/proc/<pid>/stat fields 14 and 15). */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/**
 * The process that runs the worker: `bin/retail24.mjs worker` re-executes itself with a heap cap
 * unless one is given, so the measured process is its child when it has one.
 */
export function workerPid(pid: number): number {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length > 0 ? Number(kids[0]) : pid;
  } catch {
    return pid;
  }
}

/** The database server the stack started (its own process, not the bash supervisor around it). */
export function serverPid(stack: LocalStack): number | null {
  const name = stack.started.find((s) => s === 'ferretdb' || s === 'mongod');
  if (!name) return null;
  const dir = join(stack.dataDir, name);
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (!argv[0]!.endsWith('bash') && argv.some((a) => a.includes(dir))) return Number(p);
    } catch { /* gone meanwhile */ }
  }
  return null;
}
