import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/**
 * `PREDICT_PROFILE_DIR=<dir>`: a V8 CPU profile of this bench server process from the moment it
 * listens, written as `<dir>/<name>-<pid>.cpuprofile` when the process gets SIGTERM (the request
 * path breakdown in bench/README.md comes from these). Returns the stop function, or null when
 * the variable is unset.
 */
export async function startServerProfile(name: string): Promise<(() => Promise<void>) | null> {
  const dir = process.env.PREDICT_PROFILE_DIR;
  if (!dir) return null;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  };
}
