import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, DataDirLockedError, lockPath, readLock, releaseLock } from '../../../stack/lock';

describe('data-dir lock', () => {
  let dir: string;
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'retail24-lock-'));
    lines.length = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const writeLock = (pid: number, children: { name: string; pid: number }[] = []) =>
    fs.writeFileSync(lockPath(dir), JSON.stringify({ pid, startedAt: new Date().toISOString(), children }));

  it('when the lock is free, then acquiring records this pid and releasing removes it', () => {
    acquireLock(dir, log);
    const held = readLock(dir);
    releaseLock(dir);

    expect(held?.pid).toBe(process.pid);
    expect(fs.existsSync(lockPath(dir))).toBe(false);
  });

  it('when a live process holds the lock, then acquiring throws naming the dir and its pid', () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeLock(other.pid!);

      expect(() => acquireLock(dir, log)).toThrow(DataDirLockedError);
      expect(() => acquireLock(dir, log)).toThrow(`data dir ${dir} is in use by a running stack (pid ${other.pid})`);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('when this process already holds the lock, then a second stack here is refused too', () => {
    acquireLock(dir, log);

    expect(() => acquireLock(dir, log)).toThrow(DataDirLockedError);
  });

  it('when the holder is dead, then the stale lock is taken over and its orphan (named by the dir) is killed', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    // An "orphaned service": its own process group, command line naming the data dir (the
    // trailing command keeps bash from exec-ing sleep, which would drop the dir from cmdline).
    const orphan = spawn('bash', ['-c', 'sleep 30; exit 0', 'svc', dir], { detached: true, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => orphan.once('exit', (_c, sig) => r(sig)));
    writeLock(dead, [{ name: 'ferretdb', pid: orphan.pid! }]);

    acquireLock(dir, log);

    expect(readLock(dir)?.pid).toBe(process.pid);
    expect(await exited).toBe('SIGKILL');
    expect(lines.join('\n')).toContain(`pid ${dead} is not running`);
  });

  it('when a stale lock lists a pid whose command line does not name the dir, then that process is left alone', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const bystander = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    writeLock(dead, [{ name: 'temporal', pid: bystander.pid! }]);
    try {
      acquireLock(dir, log);

      expect(() => process.kill(bystander.pid!, 0)).not.toThrow();
    } finally {
      bystander.kill('SIGKILL');
    }
  });
});
