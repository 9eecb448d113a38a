/** Thrown for bad command-line input; main prints its message as the one-line reason. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  positional: string[];
  flags: Record<string, string | boolean>;
}

/**
 * Parses `--name value`, `--name=value` and boolean `--flag`. Only flags listed in `spec` are
 * accepted, so a typo is an error naming it rather than silently ignored.
 */
export function parseArgs(argv: string[], spec: Record<string, 'string' | 'boolean'>): ParsedArgs {
  const out: ParsedArgs = { positional: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      out.positional.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option --${name} (accepted: ${Object.keys(spec).map((k) => `--${k}`).join(', ') || 'none'})`);
    if (kind === 'boolean') {
      out.flags[name] = inline === undefined ? true : inline !== 'false';
    } else {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`option --${name} needs a value`);
      out.flags[name] = v;
    }
  }
  return out;
}

export function intFlag(args: ParsedArgs, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = args.flags[name];
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

export function strFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}
