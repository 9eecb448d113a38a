/**
 * The monitor's policy, spelled once: every number a retrain trigger reads, with its bounds, its
 * default and the environment variable that sets it. Workflow-safe (plain data and one pure
 * validator), because the monitor workflow validates `setPolicy` updates itself.
 *
 * Derived from this list: the `MonitorPolicy` type, `validatePolicy` (the update's validator),
 * config.ts's `MONITOR_*` variables, `policyFromConfig` (client/monitor.ts), the policy table on
 * the overview page and the trigger names of `TriggerState`. A trigger's measurement lives in
 * activities/triggers.ts, keyed by the same name (the compiler asks for one per entry here).
 */

/** One number of the policy. */
export interface PolicyField {
  /** The environment variable that sets it at start-up. */
  readonly env: `MONITOR_${string}`;
  readonly default: number;
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
  /** `min` itself is not allowed. @default false */
  readonly minExclusive?: boolean;
  /** `max` itself is not allowed. @default false */
  readonly maxExclusive?: boolean;
  readonly help: string;
}

const MAX_USERS = 10_000_000;

/** Fields every trigger may read. */
export const SHARED_POLICY = {
  intervalSeconds: { env: 'MONITOR_INTERVAL_S', default: 300, integer: true, min: 1, max: 7 * 24 * 3600, help: 'seconds between checks' },
  windowDays: { env: 'MONITOR_WINDOW_DAYS', default: 7, integer: false, min: 1, max: 365, help: 'live performance and drift look at users whose first open lies in the last this-many days of data time' },
} as const satisfies Record<string, PolicyField>;

/** Each automatic trigger, in the order the monitor evaluates and reports them, with the fields it owns. */
export const TRIGGER_POLICIES = {
  'new-data': {
    newDataRatio: { env: 'MONITOR_NEW_DATA_RATIO', default: 0.1, integer: false, min: 0, minExclusive: true, max: 1_000_000, help: "users matured since production's snapshot / matured users in it" },
  },
  degradation: {
    f1Drop: { env: 'MONITOR_F1_DROP', default: 0.05, integer: false, min: 0, minExclusive: true, max: 1, maxExclusive: true, help: "fires when live F1 ≤ (1 − this) × production's holdout F1 and the 95 % interval lies below the holdout F1" },
    minOutcomes: { env: 'MONITOR_MIN_OUTCOMES', default: 200, integer: true, min: 1, max: MAX_USERS, help: 'fewest matured users in the window for live F1 to count' },
  },
  drift: {
    driftShare: { env: 'MONITOR_DRIFT_SHARE', default: 0.02, integer: false, min: 0, minExclusive: true, max: 1, help: 'fires when at least this share of the features (and at least one) reach PSI 0.25' },
    minDriftUsers: { env: 'MONITOR_MIN_DRIFT_USERS', default: 500, integer: true, min: 10, max: MAX_USERS, help: 'fewest users in the drift sample for PSI to count' },
  },
} as const satisfies Record<string, Record<string, PolicyField>>;

export type TriggerName = keyof typeof TRIGGER_POLICIES;
export const TRIGGER_NAMES = Object.keys(TRIGGER_POLICIES) as TriggerName[];

type TriggerFieldKey = { [T in TriggerName]: keyof (typeof TRIGGER_POLICIES)[T] }[TriggerName];
export type PolicyKey = keyof typeof SHARED_POLICY | TriggerFieldKey;

type Envs<T> = { [K in keyof T]: T[K] extends { env: infer E } ? E : never }[keyof T];
/** The environment variables of the policy (MONITOR_INTERVAL_S, …). */
export type PolicyEnv = Envs<typeof SHARED_POLICY> | { [T in TriggerName]: Envs<(typeof TRIGGER_POLICIES)[T]> }[TriggerName];

export type MonitorPolicy = { [K in PolicyKey]: number } & { paused: boolean };

/** Every field with the trigger that owns it (null: shared), in order. */
export const POLICY_FIELDS: readonly (PolicyField & { env: PolicyEnv; key: PolicyKey; trigger: TriggerName | null })[] = [
  ...Object.entries(SHARED_POLICY).map(([key, f]) => ({ ...f, env: f.env as PolicyEnv, key: key as PolicyKey, trigger: null })),
  ...TRIGGER_NAMES.flatMap((trigger) => Object.entries(TRIGGER_POLICIES[trigger]).map(([key, f]) => ({ ...(f as PolicyField), env: f.env as PolicyEnv, key: key as PolicyKey, trigger }))),
];

/** The rule a field enforces, in words ("an integer in [1, 604800]", "a number in (0, 1)"). */
export function describeField(f: PolicyField): string {
  return `${f.integer ? 'an integer' : 'a number'} in ${f.minExclusive ? '(' : '['}${f.min}, ${f.max}${f.maxExclusive ? ')' : ']'}`;
}

/** Whether `v` satisfies the field's rule. */
export function fieldAccepts(f: PolicyField, v: unknown): v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (f.integer && !Number.isInteger(v)) return false;
  if (f.minExclusive ? v <= f.min : v < f.min) return false;
  return f.maxExclusive ? v < f.max : v <= f.max;
}

/** The policy every field's default gives (not paused). */
export function defaultPolicy(): MonitorPolicy {
  return { ...(Object.fromEntries(POLICY_FIELDS.map((f) => [f.key, f.default])) as Record<PolicyKey, number>), paused: false };
}

/** Rejects a policy change that cannot work, naming the field, the value and the rule. */
export function validatePolicy(patch: Partial<MonitorPolicy>): void {
  const allowed = [...POLICY_FIELDS.map((f) => f.key as string), 'paused'];
  for (const k of Object.keys(patch)) if (!allowed.includes(k)) throw new Error(`unknown policy field ${k} (allowed: ${allowed.join(', ')})`);
  for (const f of POLICY_FIELDS) {
    const v = (patch as Record<string, unknown>)[f.key];
    if (v !== undefined && !fieldAccepts(f, v)) throw new Error(`policy ${f.key}=${JSON.stringify(v)}: must be ${describeField(f)}`);
  }
  if (patch.paused !== undefined && typeof patch.paused !== 'boolean') throw new Error(`policy paused=${JSON.stringify(patch.paused)}: must be true or false`);
}
