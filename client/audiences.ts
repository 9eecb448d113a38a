import type { Db } from 'mongodb';
import { getAlias, getVersion, type ModelVersionDoc } from '../store/registry';
import { audienceMembersByWindow, scoresAtLeast, versionProbabilities, type ScoreDoc } from '../store/scores';
import { dataTime } from '../store/data-time';
import { maturedUsersByIds } from '../store/users';
import type { AudienceDoc } from '../store/audiences';
import { PRODUCTION_ALIAS } from '../common/constants';
import { csvCell } from '../data/csv-cell';
import { formatRule, type AudienceRule } from '../common/audience';
import {
  AudienceCurve, HoldoutCurve, gainsByDecile, observedAtShare, observedGainsByDecile, plainSummary, scoreHistogram, wilsonInterval,
  type ExpectedOutcome, type GainsRow, type ObservedOutcome,
} from '../ml/audience';

const DAY = 24 * 3_600_000;

/** Thrown when the production version has written no scores yet (the API answers 409). */
export class NoScoresError extends Error {
  constructor(readonly modelName: string, readonly version: number | null) {
    super(version === null
      ? `model ${modelName} has no production version yet: train one first`
      : `production v${version} of ${modelName} has scored no users yet: run \`retail24 score\` or wait for the scoring schedule`);
    this.name = 'NoScoresError';
  }
}

/** The production version's scored population and its holdout, the base of every audience figure. */
export interface Population {
  modelName: string;
  version: number;
  doc: ModelVersionDoc;
  curve: AudienceCurve;
  holdout: HoldoutCurve | null;
  /** The data's own time (latest observation): "today" and open windows are measured from it. */
  dataTime: number;
  builtAt: number;
}

const populations = new Map<string, Promise<Population>>();
/** Scores change only when a scoring run writes; figures may be this stale. */
const POPULATION_TTL_MS = 15_000;

/** The production version's population, cached per process for {@link POPULATION_TTL_MS}. */
export async function productionPopulation(db: Db, modelName: string, now = Date.now()): Promise<Population> {
  const key = `${db.databaseName}\u0000${modelName}`;
  const cached = populations.get(key);
  if (cached) {
    const p = await cached.catch(() => null);
    const alias = await getAlias(db, modelName, PRODUCTION_ALIAS);
    if (p && alias?.version === p.version && now - p.builtAt < POPULATION_TTL_MS) return p;
  }
  const next = buildPopulation(db, modelName, now);
  populations.set(key, next);
  next.catch(() => populations.delete(key));
  return next;
}

async function buildPopulation(db: Db, modelName: string, now: number): Promise<Population> {
  const alias = await getAlias(db, modelName, PRODUCTION_ALIAS);
  const doc = alias ? await getVersion(db, modelName, alias.version) : null;
  if (!alias || !doc) throw new NoScoresError(modelName, null);
  const p = await versionProbabilities(db, modelName, doc.version);
  if (p.length === 0) throw new NoScoresError(modelName, doc.version);
  const hs = doc.holdoutSample;
  return {
    modelName, version: doc.version, doc,
    curve: AudienceCurve.fromProbabilities(p),
    holdout: hs && hs.p.length > 0 ? HoldoutCurve.fromLabelled(hs.p, hs.y) : null,
    dataTime: (await dataTime(db)) ?? now,
    builtAt: now,
  };
}

export interface AudienceFigures {
  rule: AudienceRule;
  label: string;
  version: number;
  population: number;
  /** Lowest probability in the audience (null: empty). */
  threshold: number | null;
  expected: ExpectedOutcome;
  /** The holdout's observed counterpart at the same share (null: the version has no holdout sample). */
  observed: ObservedOutcome | null;
  summary: string;
}

/** What a rule selects from the scored population, expected and as observed on the holdout. */
export function audienceFigures(pop: Population, rule: AudienceRule): AudienceFigures {
  const sel = pop.curve.forRule(rule);
  const share = pop.curve.n === 0 ? 0 : sel.size / pop.curve.n;
  return {
    rule, label: formatRule(rule), version: pop.version, population: pop.curve.n, threshold: sel.threshold,
    expected: pop.curve.at(sel.size),
    observed: pop.holdout ? observedAtShare(pop.holdout, share) : null,
    summary: plainSummary(pop.curve.at(sel.size)),
  };
}

export interface PopulationCharts {
  histogram: { edges: number[]; counts: number[] };
  gains: GainsRow[];
  observedGains: GainsRow[] | null;
  reliability: ModelVersionDoc['reliability'] | null;
}

export function populationCharts(pop: Population): PopulationCharts {
  return {
    histogram: scoreHistogram(pop.curve.sorted),
    gains: gainsByDecile(pop.curve),
    observedGains: pop.holdout ? observedGainsByDecile(pop.holdout) : null,
    reliability: pop.doc.reliability ?? null,
  };
}

export interface MemberRow {
  user_id: string;
  probability: number;
  percentile: number | null;
  first_open: string;
  window_closes_at: string;
  window_open: boolean;
}

const MEMBER_COLUMNS: (keyof MemberRow)[] = ['user_id', 'probability', 'percentile', 'first_open', 'window_closes_at', 'window_open'];
/** The header line of a member CSV (API download and `retail24 audience --out`). */
export const MEMBER_CSV_HEADER = `${MEMBER_COLUMNS.join(',')}\n`;

/** One member as a line of CSV (RFC 4180 cells, null as empty) or of JSON lines. */
export function memberLine(row: MemberRow, format: 'csv' | 'jsonl'): string {
  return format === 'csv' ? `${MEMBER_COLUMNS.map((c) => csvCell(row[c] === null ? '' : String(row[c]))).join(',')}\n` : `${JSON.stringify(row)}\n`;
}

/**
 * The audience's members: exactly `size` of them, the users above the cut's probability and, of
 * those tied at it, the smallest user ids (the same set a sort by probability then user id would
 * give). They stream in storage order, not by probability: one pass over the version's scores
 * with no server-side sort, so neither this process nor the server holds the audience (only the
 * ties that must be cut, at most `size`). `open` keeps those whose window is still open at data
 * time. Users scored after the population was read are not members (the cap is `size`).
 */
export async function* audienceMembers(db: Db, pop: Population, rule: AudienceRule, opts: { open?: boolean } = {}): AsyncGenerator<MemberRow> {
  const { size, threshold, tiedLeftOut } = pop.curve.select(rule);
  if (size === 0 || threshold === null) return;
  // ties at the cut the audience takes: all of them unless some are left out
  const tiesTaken = size - pop.curve.countAbove(threshold);
  const cut = tiedLeftOut > 0 ? new SmallestIds<MemberScore>(tiesTaken) : null;
  const row = (s: MemberScore): MemberRow | null => {
    const open = s.windowClosesAt > pop.dataTime;
    if (opts.open && !open) return null;
    return { user_id: s.userId, probability: s.probability, percentile: s.percentile, first_open: new Date(s.firstOpen).toISOString(), window_closes_at: new Date(s.windowClosesAt).toISOString(), window_open: open };
  };
  let above = 0;
  const aboveCap = size - tiesTaken;
  let tied = 0;
  for await (const s of scoresAtLeast(db, { modelName: pop.modelName, version: pop.version, minProbability: threshold })) {
    if (s.probability > threshold) {
      if (above >= aboveCap) continue;
      above++;
    } else if (cut) {
      cut.offer(s);
      continue;
    } else {
      if (tied >= tiesTaken) continue;
      tied++;
    }
    const r = row(s);
    if (r) yield r;
  }
  for (const s of cut?.sorted() ?? []) {
    const r = row(s);
    if (r) yield r;
  }
}

type MemberScore = Pick<ScoreDoc, 'userId' | 'probability' | 'percentile' | 'firstOpen' | 'windowClosesAt'>;

/** Keeps the `k` rows with the smallest user ids seen (a max-heap on user id), O(k) memory. */
export class SmallestIds<T extends { userId: string }> {
  private readonly heap: T[] = [];
  constructor(private readonly k: number) {}

  offer(x: T): void {
    const h = this.heap;
    if (this.k <= 0) return;
    if (h.length < this.k) {
      h.push(x);
      let i = h.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (h[parent].userId >= h[i].userId) break;
        [h[parent], h[i]] = [h[i], h[parent]];
        i = parent;
      }
    } else if (x.userId < h[0].userId) {
      h[0] = x;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].userId > h[m].userId) m = l;
        if (r < h.length && h[r].userId > h[m].userId) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
  }

  /** The kept rows by user id ascending. */
  sorted(): T[] {
    return [...this.heap].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  }
}

export interface SavedAudienceStats {
  name: string;
  rule: AudienceRule;
  label: string;
  description: string | null;
  figures: AudienceFigures;
  /** Members (at scoring time) among users who first opened in the last data day. */
  today: { from: string; to: string; members: number };
  /** Members among the day before's users, and how many of those bought within 24 h (matured only). */
  yesterday: { from: string; to: string; members: number; matured: number; buyers: number; conversion: number | null; interval: [number, number] | null };
}

/**
 * Saved audiences' figures today, and how yesterday's members actually converted: one pass over
 * the two days' scores and one read of yesterday's members for all of them.
 */
export async function savedAudiencesStats(db: Db, pop: Population, list: readonly AudienceDoc[]): Promise<SavedAudienceStats[]> {
  const t = pop.dataTime;
  const windows = [{ from: t - DAY, to: t + 1 }, { from: t - 2 * DAY, to: t - DAY }];
  const members = await audienceMembersByWindow(db, { modelName: pop.modelName, names: list.map((a) => a._id), windows });
  const yesterdayIds = [...new Set(list.flatMap((a) => members[a._id]![1]!))];
  const matured = new Map((yesterdayIds.length > 0 ? await maturedUsersByIds(db, yesterdayIds) : []).map((u) => [u.userId, u]));
  return list.map((a) => {
    const [today, yesterday] = members[a._id]!;
    const mature = yesterday!.map((id) => matured.get(id)).filter((u) => u !== undefined);
    const buyers = mature.filter((u) => u.label === 1).length;
    return {
      name: a._id, rule: a.rule, label: formatRule(a.rule), description: a.description ?? null,
      figures: audienceFigures(pop, a.rule),
      today: { from: new Date(t - DAY).toISOString(), to: new Date(t).toISOString(), members: today!.length },
      yesterday: {
        from: new Date(t - 2 * DAY).toISOString(), to: new Date(t - DAY).toISOString(), members: yesterday!.length, matured: mature.length, buyers,
        conversion: mature.length > 0 ? buyers / mature.length : null, interval: wilsonInterval(buyers, mature.length),
      },
    };
  });
}

/** One saved audience's figures and conversion (see {@link savedAudiencesStats}). */
export async function savedAudienceStats(db: Db, pop: Population, a: AudienceDoc): Promise<SavedAudienceStats> {
  return (await savedAudiencesStats(db, pop, [a]))[0]!;
}
