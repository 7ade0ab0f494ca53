import { FIGURE_COLUMNS, formatSpread } from './figures.js';
import type { CompareResult } from './compare.js';

/** The comparison as printed: one line per variant and VM. */
export function formatCompare(r: CompareResult): string {
  const { plan } = r;
  const seeds = plan.variants[0].runs.map((x) => x.seed);
  const several = seeds.length > 1;
  const lines = [
    `compare: ${plan.variants.length} variant${plan.variants.length === 1 ? '' : 's'}, seed${several ? 's' : ''} ${seeds.join(', ')}` +
      (several ? '; each figure the mean over seeds (min–max)' : ''),
  ];
  if (plan.differs.length > 0)
    lines.push(`note: the variants differ in more than policy: ${plan.differs.join(', ')}`);
  lines.push('');
  const head = ['variant', 'vm', ...FIGURE_COLUMNS.map((c) => c.header)];
  const body = r.rows.map((row) => [
    row.variant,
    row.vm,
    ...FIGURE_COLUMNS.map((c) => formatSpread(row.figures[c.key], c.digits, several)),
  ]);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((x) => x[i].length)));
  for (const row of all)
    lines.push(
      row
        .map((x, i) => (i < 2 ? x.padEnd(widths[i]) : x.padStart(widths[i])))
        .join('  ')
        .trimEnd(),
    );
  return lines.join('\n');
}

/** results.json: the plan, the table and every run's summary. */
export function compareJson(r: CompareResult): Record<string, unknown> {
  return {
    varied: r.plan.varied,
    differs: r.plan.differs,
    seeds: r.plan.variants[0].runs.map((x) => x.seed),
    table: r.rows.map((row) => ({ variant: row.variant, vm: row.vm, ...row.figures })),
    variants: r.plan.variants.map((v, i) => ({
      label: v.label,
      scenario: v.scenario,
      vary: v.vary,
      folder: `variants/${v.slug}`,
      runs: v.runs.map((run, k) => ({
        seed: run.seed,
        scenario_file: `variants/${v.slug}/seed-${run.seed}/scenario.json`,
        summary: r.outcomes[i][k].summary,
      })),
    })),
  };
}
