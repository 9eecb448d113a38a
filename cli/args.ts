import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';

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

export type ArgSpec = Record<string, 'string' | 'boolean'>;

/**
 * The one argument parser of the CLI and the benches: `node:util` `parseArgs` in strict mode, so
 * an unknown option or a value given to a boolean is an error naming it rather than silently
 * ignored. Two conveniences on top, both applied before Node parses: a boolean may be written
 * `--flag=true` / `--flag=false`, and a string option takes a negative number as its next
 * argument (`--users -3` reaches the range check, which names the value, instead of Node's
 * "ambiguous" error).
 */
export function parseArgs(argv: readonly string[], spec: ArgSpec, usage?: string): ParsedArgs {
  const explicit: Record<string, boolean> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([^=]+)=(true|false)$/.exec(a);
    if (m && spec[m[1]!] === 'boolean') {
      explicit[m[1]!] = m[2] === 'true';
      continue;
    }
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && spec[a.slice(2)] === 'string' && next !== undefined && /^-\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
      continue;
    }
    args.push(a);
  }
  const options: ParseArgsConfig['options'] = Object.fromEntries(Object.entries(spec).map(([k, type]) => [k, { type }]));
  const accepted = Object.keys(spec).map((k) => `--${k}`).join(', ') || 'none';
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = nodeParseArgs({ args, options, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (err) {
    const e = err as Error & { code?: string };
    const unknown = /Unknown option '([^']+)'/.exec(e.message);
    const what = unknown ? `unknown option ${unknown[1]} (accepted: ${accepted})`
      : e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /argument missing|ambiguous/.test(e.message) ? `option ${/'(-[^' ]+)/.exec(e.message)?.[1] ?? ''} needs a value`
      : e.message.split('\n')[0]!;
    throw new UsageError(usage ? `${what} (usage: ${usage})` : what);
  }
  const flags: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(parsed.values)) if (v !== undefined) flags[k] = v;
  return { positional: parsed.positionals, flags: { ...flags, ...explicit } };
}

/** Parses `process.argv` of a script run directly (a bench's entry point). */
export function scriptArgs(spec: ArgSpec, usage?: string): ParsedArgs {
  return parseArgs(process.argv.slice(2), spec, usage);
}

/** One integer value of option `name` (a flag's value, a list item, a positional), or a UsageError naming it. */
export function intValue(name: string, v: string | boolean, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

export function intFlag(args: ParsedArgs, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = args.flags[name];
  return v === undefined ? def : intValue(name, v, min, max);
}

/** A comma-separated list of integers (`--sizes 50000,200000`), or undefined when the flag is absent. */
export function intListFlag(args: ParsedArgs, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number[] | undefined {
  return strFlag(args, name)?.split(',').map((v) => intValue(name, v.trim(), min, max));
}

export function numFlag(args: ParsedArgs, name: string, def: number, min = -Infinity, max = Infinity): number {
  const v = args.flags[name];
  if (v === undefined) return def;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number in ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

export function strFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  return args.flags[name] === true;
}
