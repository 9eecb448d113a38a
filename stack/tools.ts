import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ToolsOptions {
  /** Repo root (holds scripts/install-tools.sh). */
  root: string;
  /** Where the project installs its own tools. @default `<root>/.tools` */
  toolsDir?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Run scripts/install-tools.sh when a tool is missing. @default true */
  install?: boolean;
}

export interface Tools {
  temporal: string;
  ferretdb: string | null;
  mongod: string | null;
}

/** Finds an executable on the PATH of env, like `command -v`. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return null;
}

const executable = (file: string): string | null => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return file;
  } catch {
    return null;
  }
};

/** Same preference order as install-tools.sh: PATH first, then the tools dir. */
function resolveTools(toolsDir: string, env: NodeJS.ProcessEnv): Partial<Tools> {
  const temporal =
    which('temporal', env) ??
    executable(path.join(toolsDir, 'bin', 'temporal')) ??
    executable(path.join(toolsDir, 'venv', 'bin', 'temporal'));
  const mongod = which('mongod', env);
  const ferretdb = mongod ? null : (executable(path.join(toolsDir, 'bin', 'ferretdb')) ?? which('ferretdb', env));
  return { temporal: temporal ?? undefined, mongod, ferretdb };
}

function runInstallScript(opts: Required<Pick<ToolsOptions, 'root' | 'log'>> & { toolsDir: string; env: NodeJS.ProcessEnv }): Promise<void> {
  const script = path.join(opts.root, 'scripts', 'install-tools.sh');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], {
      env: { ...opts.env, RETAIL24_TOOLS_DIR: opts.toolsDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastErr = '';
    const forward = (chunk: Buffer, isErr: boolean) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        if (isErr) lastErr = line;
        opts.log(line);
      }
    };
    child.stdout.on('data', (c: Buffer) => forward(c, false));
    child.stderr.on('data', (c: Buffer) => forward(c, true));
    child.once('error', (err) => reject(new Error(`cannot run ${script}: ${err.message}`)));
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(lastErr || `${script} exited with code ${code}`)),
    );
  });
}

/**
 * Returns the paths of the Temporal CLI and of the MongoDB-protocol server (mongod on PATH wins
 * over FerretDB), installing what is missing with scripts/install-tools.sh.
 * @throws Error with install-tools' one-line reason when a tool cannot be installed.
 */
export async function ensureTools(opts: ToolsOptions): Promise<Tools> {
  const env = opts.env ?? process.env;
  const toolsDir = path.resolve(opts.toolsDir ?? path.join(opts.root, '.tools'));
  const log = opts.log ?? (() => undefined);
  let found = resolveTools(toolsDir, env);
  const complete = () => Boolean(found.temporal && (found.mongod || found.ferretdb));
  if (!complete() && opts.install !== false) {
    await runInstallScript({ root: opts.root, toolsDir, env, log });
    found = resolveTools(toolsDir, env);
  }
  if (!found.temporal) throw new Error(`Temporal CLI not found on PATH or in ${toolsDir}: run bash scripts/install-tools.sh`);
  if (!found.mongod && !found.ferretdb) {
    throw new Error(`neither mongod on PATH nor ferretdb in ${toolsDir}: run bash scripts/install-tools.sh`);
  }
  return { temporal: found.temporal, ferretdb: found.ferretdb ?? null, mongod: found.mongod ?? null };
}
