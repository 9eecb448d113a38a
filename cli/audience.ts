import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs, strFlag, UsageError } from './args';
import { CliContext } from './context';
import { audienceRuleSchema, savedAudienceSchema, type AudienceRule } from '../common/audience';
import { getAudience, saveAudience } from '../store/audiences';
import { MEMBER_CSV_HEADER, audienceFigures, audienceMembers, memberLine, productionPopulation } from '../client/audiences';

const USAGE = 'usage: retail24 audience <name> | --top 10% | --top 500 | --recall 0.9 | --precision 0.4  [--open] [--out FILE.csv|.jsonl] [--save NAME [--description TEXT]] [--json]';

/** The rule from flags, validated by the same schema as the API (errors name the field). */
function ruleFromFlags(flags: Record<string, string | boolean>): AudienceRule | null {
  const given = (['top', 'recall', 'precision'] as const).filter((k) => typeof flags[k] === 'string');
  if (given.length === 0) return null;
  if (given.length > 1) throw new UsageError(`give one of --top, --recall, --precision (got ${given.map((g) => `--${g}`).join(', ')})`);
  const v = String(flags[given[0]!]);
  const raw = given[0] === 'top'
    ? (/%\s*$/.test(v) ? { kind: 'top_percent', percent: Number(v.replace(/%\s*$/, '')) } : { kind: 'top_n', n: Number(v) })
    : given[0] === 'recall' ? { kind: 'target_recall', recall: Number(v) } : { kind: 'min_precision', precision: Number(v) };
  const r = audienceRuleSchema.safeParse(raw);
  if (!r.success) throw new UsageError(r.error.issues[0]!.message);
  return r.data;
}

/**
 * `retail24 audience`: the figures of a saved or ad hoc audience over the production version's
 * scored users, and (with --out) its members, streamed to the file.
 */
export async function audienceCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { top: 'string', recall: 'string', precision: 'string', open: 'boolean', out: 'string', save: 'string', description: 'string', json: 'boolean' });
  const ctx = new CliContext(process.env, args.flags.json === true);
  try {
    const db = await ctx.db();
    const adHoc = ruleFromFlags(args.flags);
    const name = args.positional[0];
    if ((adHoc === null) === (name === undefined)) throw new UsageError(USAGE);
    let rule: AudienceRule;
    if (adHoc) rule = adHoc;
    else {
      const saved = await getAudience(db, name!);
      if (!saved) throw new UsageError(`no saved audience named ${JSON.stringify(name)}; save one with --top … --save ${name}`);
      rule = saved.rule;
    }
    const save = strFlag(args, 'save');
    if (save !== undefined) {
      const body = savedAudienceSchema.safeParse({ name: save, rule, ...(strFlag(args, 'description') ? { description: strFlag(args, 'description') } : {}) });
      if (!body.success) throw new UsageError(body.error.issues[0]!.message);
      await saveAudience(db, { name: save, modelName: ctx.config.MODEL_NAME, rule, description: body.data.description, by: 'cli' });
    }
    const pop = await productionPopulation(db, ctx.config.MODEL_NAME);
    const figures = audienceFigures(pop, rule);
    const out = strFlag(args, 'out');
    let written = 0;
    if (out !== undefined) {
      const jsonl = out.endsWith('.jsonl');
      const file = createWriteStream(out);
      if (!jsonl) file.write(MEMBER_CSV_HEADER);
      for await (const row of audienceMembers(db, pop, rule, { open: args.flags.open === true })) {
        if (!file.write(memberLine(row, jsonl ? 'jsonl' : 'csv'))) await once(file, 'drain');
        written++;
      }
      file.end();
      await once(file, 'finish');
    }
    const e = figures.expected;
    const o = figures.observed;
    const human = [
      `${figures.label} of ${figures.population} users scored by v${figures.version}: ${figures.summary}`,
      `  expected buyers ${e.expectedBuyers.toFixed(1)}, non-buyers ${e.expectedNonBuyers.toFixed(1)}, recall ${pct(e.expectedRecall)}, precision ${pct(e.expectedPrecision)}, lift ${e.lift?.toFixed(2) ?? '–'}×`,
      o ? `  holdout (observed, ${o.holdoutSize} users): recall ${pct(o.observedRecall)}, precision ${pct(o.observedPrecision)}${o.precisionInterval ? ` [${pct(o.precisionInterval[0])}, ${pct(o.precisionInterval[1])}]` : ''}, lift ${o.lift?.toFixed(2) ?? '–'}×` : '  holdout: none recorded for this version',
      ...(out !== undefined ? [`  ${written} members${args.flags.open ? ' with an open window' : ''} written to ${out}`] : []),
      ...(save !== undefined ? [`  saved as ${save}`] : []),
    ].join('\n');
    ctx.out({ ...figures, ...(out !== undefined ? { out, written } : {}), ...(save !== undefined ? { saved: save } : {}) }, human);
    return 0;
  } finally {
    await ctx.close();
  }
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
