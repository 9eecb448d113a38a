import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * A reference engine's Python venv under .tools/ (RETAIL24_TOOLS_DIR moves it, as for
 * install-tools), created and filled on first use so a fresh clone compares against its
 * references without a manual step. Returns the venv's python, or the reason it is missing
 * (the bench then reports that engine as an error instead of comparing against nothing).
 */
export function ensureVenv(name: string, install: { requirements?: string; packages?: string[] }, probe: string): { python: string } | { error: string } {
  const tools = process.env.RETAIL24_TOOLS_DIR ?? join(ROOT, '.tools');
  const venv = join(tools, name);
  const python = join(venv, 'bin', 'python');
  const ok = () => existsSync(python) && spawnSync(python, ['-c', probe], { stdio: 'ignore' }).status === 0;
  if (ok()) return { python };
  process.stderr.write(`bench: installing the reference environment ${venv} (first use; a few minutes)\n`);
  if (!existsSync(python)) {
    const made = spawnSync('python3', ['-m', 'venv', venv], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (made.status !== 0) return { error: `python3 -m venv ${venv} failed (exit ${made.status})` };
  }
  const args = ['install', '-q', '--disable-pip-version-check', '--no-input', ...(install.requirements ? ['-r', install.requirements] : []), ...(install.packages ?? [])];
  const pip = spawnSync(join(venv, 'bin', 'pip'), args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (pip.status !== 0) return { error: `pip ${args.join(' ')} failed in ${venv} (exit ${pip.status})` };
  return ok() ? { python } : { error: `${venv}: python -c "${probe}" still fails after pip install` };
}
