import { escapeHtml } from '../report/html-tables.js';
import { CONTENT_SECURITY_POLICY } from '../report/html.js';
import type { SweepRow } from './collect.js';
import type { SweepManifest } from './manifest.js';

/**
 * A sweep's report.html: per axis, each value's mean figures per VM over everything else that
 * varied (the axis's marginal effect), then the rows themselves. Static HTML, no script: a
 * sweep of thousands of points still opens at once.
 */
const FIGURES = [
  ['slowdown', 3],
  ['fast_tier_hit_ratio', 3],
  ['amat_ns', 1],
  ['promoted_pages', 0],
  ['demoted_pages', 0],
] as const;

/** Rows shown in the page; results.csv has them all. */
const MAX_ROWS_SHOWN = 2000;

function cell(x: string | number | boolean, digits?: number): string {
  const t = typeof x === 'number' && digits !== undefined ? x.toFixed(digits) : String(x);
  return `<td${typeof x === 'number' ? '' : ' class="t"'}>${escapeHtml(t)}</td>`;
}

function table(caption: string, head: readonly string[], body: readonly string[]): string {
  return (
    `<table>\n<caption>${escapeHtml(caption)}</caption>\n<thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>\n` +
    `<tbody>\n${body.join('\n')}\n</tbody>\n</table>`
  );
}

function marginal(
  m: SweepManifest,
  rows: readonly SweepRow[],
  path: string,
  values: readonly string[],
): string {
  const vms = [...new Set(rows.map((r) => String(r.vm)))];
  const body: string[] = [];
  for (const value of values)
    for (const vm of vms) {
      const sel = rows.filter((r) => r[path] === value && r.vm === vm);
      if (sel.length === 0) continue;
      const mean = (k: string): number => sel.reduce((a, r) => a + Number(r[k]), 0) / sel.length;
      body.push(
        `<tr>${cell(value)}${cell(vm)}${cell(sel.length)}${FIGURES.map(([k, d]) => cell(mean(k), d)).join('')}</tr>`,
      );
    }
  return table(
    `${path}: mean over the ${m.points.length / values.length} points per value`,
    [path, 'vm', 'runs', ...FIGURES.map(([k]) => k)],
    body,
  );
}

export function sweepReport(m: SweepManifest, rows: readonly SweepRow[]): string {
  const cols = rows.length > 0 ? Object.keys(rows[0]) : [];
  const digits = new Map<string, number>(FIGURES.map(([k, d]) => [k, d]));
  const shown = rows.slice(0, MAX_ROWS_SHOWN);
  const all = table(
    rows.length > shown.length
      ? `the first ${shown.length} of ${rows.length} rows (all in results.csv)`
      : `all ${rows.length} rows`,
    cols,
    shown.map((r) => `<tr>${cols.map((c) => cell(r[c], digits.get(c))).join('')}</tr>`),
  );
  const axes = m.axes.map((a) => marginal(m, rows, a.path, a.values)).join('\n');
  const title = `numatier sweep: ${m.name}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}table{border-collapse:collapse;margin:1rem 0}caption{text-align:left;font-weight:600;padding:.3rem 0}td,th{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:right}td.t,th{text-align:left}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>scenario <strong>${escapeHtml(m.scenario.name)}</strong>; ${m.points.length} points (${m.combine} of ${m.axes.map((a) => `${escapeHtml(a.path)} × ${a.values.length}`).join(', ') || 'no axes'}; seeds ${m.seeds.join(', ')}) in ${m.shards} shards. Figures as in simulate: over the measured window when the scenario has one.</p>
${axes}
${all}
</body>
</html>
`;
}
