import { parseArgs } from './args';
import { CliContext } from './context';
import { statusReport } from './status-report';

/** `retail24 status [--json]` */
export async function statusCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: 'boolean' });
  const ctx = new CliContext(process.env, args.flags.json === true);
  try {
    const report = await statusReport(await ctx.db(), await ctx.temporal(), ctx.config);
    const p = report.production;
    const human = [
      p ? `production: v${p.version} (ROC AUC ${p.metrics.roc_auc?.toFixed(3)}, recall ${p.metrics.recall?.toFixed(3)}, F1 ${p.metrics.f1?.toFixed(3)}, threshold ${p.threshold.toFixed(3)}), promoted ${p.promotedAt}: ${p.reason}` : 'production: no model yet',
      `monitor: ${report.monitor.state}${report.monitor.lastCheck ? `, last check ${report.monitor.lastCheck}` : ''}`,
      ...report.monitor.triggers.map((t) => `  ${t.name}: ${t.value ?? '–'} vs ${t.threshold}${t.fired ? ' FIRED' : ''}`),
      'runs:',
      ...report.runs.map((r) => `  ${r.runId} ${r.status} (${r.stage})${r.version ? ` → v${r.version}${r.promoted ? ' promoted' : ' not promoted'}` : ''}`),
    ].join('\n');
    ctx.out(report, human);
    return 0;
  } finally {
    await ctx.close();
  }
}
