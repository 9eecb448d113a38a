import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTE_TYPES } from '../../../stack/health';

const root = path.resolve(import.meta.dirname, '../../..');
const composeFile = path.join(root, 'docker-compose.yml');
const composeText = fs.readFileSync(composeFile, 'utf8');

/** `docker compose` (v2 plugin) if it answers, else the standalone `docker-compose`, else null. */
function findComposeClient(): string[] | null {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (r.status === 0) return cmd;
  }
  return null;
}

const client = findComposeClient();
if (!client) {
  console.warn('compose.test: skipping `compose config` checks: neither `docker compose` nor `docker-compose` is installed');
}

function composeConfig(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(client![0]!, [...client!.slice(1), '-f', composeFile, 'config', ...args], {
    cwd: root,
    encoding: 'utf8',
    env,
  });
}

describe('docker-compose.yml', () => {
  const token = { ...process.env, API_TOKEN: 'compose-test-token-0123456789' };

  it.skipIf(!client)('when validated by the compose client, then it is a valid compose file', () => {
    const r = composeConfig(['-q'], token);

    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!client)('when services are listed, then the store, Temporal, its UI, worker and API are all there', () => {
    const r = composeConfig(['--services'], token);

    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(
      expect.arrayContaining(['api', 'mongo', 'postgresql', 'temporal', 'temporal-setup', 'temporal-ui', 'worker']),
    );
  });

  it.skipIf(!client)('when API_TOKEN is unset, then the file refuses to render and names the variable', () => {
    const env = { ...process.env };
    delete env.API_TOKEN;

    const r = composeConfig(['-q'], env);

    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('API_TOKEN');
  });

  it('when it mounts files from the repo, then each of them exists', () => {
    const mounts = [...composeText.matchAll(/-\s+\.\/([^:\s]+):/g)].map((m) => m[1]!);

    expect(mounts.length).toBeGreaterThan(0);
    for (const rel of mounts) expect(fs.existsSync(path.join(root, rel)), rel).toBe(true);
  });

  it('when the compose setup registers search attributes, then they match the local stack list', () => {
    const script = fs.readFileSync(path.join(root, 'scripts/compose/temporal-setup.sh'), 'utf8');
    const loop = /for pair in ([^;]+);/.exec(script)?.[1] ?? '';

    const registered = Object.fromEntries(loop.trim().split(/\s+/).map((p) => p.split(':') as [string, string]));

    expect(registered).toEqual(Object.fromEntries(Object.entries(SEARCH_ATTRIBUTE_TYPES).map(([k, v]) => [k, v.type])));
  });
});
