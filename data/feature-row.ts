/**
 * The hot path of feature building: a spec compiled once (cached per spec object) and a row
 * writer that allocates nothing per user beyond what `Map` lookups need.
 */
import type { FeatureSpec } from './feature-spec';
import type { UserRecord } from './record';
import { toLocalMs } from './timestamp';
import { transformVersion, type BaseFeature, type LocalOpen } from './transforms';

const DAY_MS = 86_400_000;
const SCREEN_CACHE_LIMIT = 100_000;

interface ScreenInfo {
  top: number; // index into topScreens or -1
  groups: Int32Array; // group indexes the screen belongs to
}

export interface CompiledSpec {
  spec: FeatureSpec;
  /** the base features of the spec's transform version, in column order from 0 */
  base: readonly BaseFeature[];
  open: LocalOpen; // scratch, reused for every row
  width: number;
  groupNames: string[];
  patterns: string[][];
  weights: Float64Array;
  topIndex: Map<string, number>;
  screens: Map<string, ScreenInfo>;
  groupStart: number;
  topStart: number;
  otherCol: number;
  intentCol: number;
  passStart: number;
  groupCounts: Float64Array; // scratch, reused for every row
}

const compiled = new WeakMap<FeatureSpec, CompiledSpec>();

export function compileSpec(spec: FeatureSpec): CompiledSpec {
  let c = compiled.get(spec);
  if (c) return c;
  const version = transformVersion(spec.version);
  if (!version) throw new RangeError(`feature spec of transform version ${JSON.stringify(spec.version)}: this build does not know it`);
  const groupNames = Object.keys(spec.groups);
  const groupStart = version.base.length;
  const topStart = groupStart + groupNames.length;
  const otherCol = topStart + spec.topScreens.length;
  c = {
    spec, base: version.base, open: { hour: 0, weekday: 0 }, width: spec.names.length, groupNames,
    patterns: groupNames.map((g) => spec.groups[g]),
    weights: Float64Array.from(groupNames, (g) => spec.intentWeights[g] ?? 0),
    topIndex: new Map(spec.topScreens.map((s, i) => [s, i])),
    screens: new Map(), groupStart, topStart, otherCol, intentCol: otherCol + 1, passStart: otherCol + 2,
    groupCounts: new Float64Array(groupNames.length),
  };
  compiled.set(spec, c);
  return c;
}

function screenInfo(c: CompiledSpec, name: string): ScreenInfo {
  let info = c.screens.get(name);
  if (info) return info;
  const lower = name.toLowerCase();
  const groups: number[] = [];
  for (let g = 0; g < c.patterns.length; g++) if (c.patterns[g].some((p) => lower.includes(p))) groups.push(g);
  info = { top: c.topIndex.get(name) ?? -1, groups: Int32Array.from(groups) };
  if (c.screens.size >= SCREEN_CACHE_LIMIT) c.screens.clear(); // unbounded vocabularies must not grow memory
  c.screens.set(name, info);
  return info;
}

/** Writes the vector of `user` into `out[offset .. offset + width)`. */
export function writeRow(c: CompiledSpec, user: UserRecord, out: Float64Array, offset: number): void {
  const { spec } = c;
  out.fill(0, offset, offset + c.width);
  const local = toLocalMs(user.firstOpen, spec.timezone);
  const day = Math.floor(local / DAY_MS);
  const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  const open = c.open;
  open.hour = Math.floor((local - day * DAY_MS) / 3_600_000);
  open.weekday = weekday;
  for (let k = 0; k < c.base.length; k++) out[offset + k] = c.base[k].value(user, open, spec);
  const gc = c.groupCounts;
  gc.fill(0);
  let other = 0;
  for (const s of user.screens) {
    const info = screenInfo(c, s);
    if (info.top >= 0) out[offset + c.topStart + info.top] += 1;
    else other++;
    for (let k = 0; k < info.groups.length; k++) gc[info.groups[k]] += 1;
  }
  let intent = 0;
  for (let g = 0; g < gc.length; g++) {
    out[offset + c.groupStart + g] = gc[g];
    intent += c.weights[g] * gc[g];
  }
  out[offset + c.otherCol] = other;
  out[offset + c.intentCol] = intent;
  for (let p = 0; p < spec.passThrough.length; p++) {
    const name = spec.passThrough[p];
    const v = user.extra[name];
    out[offset + c.passStart + p] = v === undefined ? spec.passThroughFill[name] : v;
  }
}
