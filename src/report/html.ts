import { MAIN_JS, RECORDER_JS } from './html-client.js';
import { runTargets, validateReportInput, type ReportInput, type ReportRun } from './html-input.js';
import { reportPlots, type PlotSpec } from './html-plots.js';
import { comparisonTable, escapeHtml, num, runTables } from './html-tables.js';
import { plotLibrary } from './plot-lib.js';
import type { Summary } from './summary.js';

export type { ReportInput, ReportRun, SeriesTable } from './html-input.js';

/**
 * report.html: one self-contained page (the plotting library, its stylesheet and the data are
 * all inlined, and a Content-Security-Policy forbids any fetch) with the run's plots and tables.
 * The same input always gives the same bytes: nothing here reads the clock or the environment.
 */

/**
 * JSON that can sit inside <script type="application/json">: `<`, `>` and `&` escaped so no
 * `</script>` or `<!--` can appear, U+2028/U+2029 escaped for any consumer that evaluates it as JS.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Fetches nothing: only inline scripts and styles run, images only from data: URLs. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const PAGE_CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; margin: 0; background: #fafafa; }
main { max-width: 1280px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 24px; margin: 8px 0; } h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #ccc; }
h3 { font-size: 15px; margin: 20px 0 2px; }
.meta, .caption { color: #555; } .caption { margin: 0 0 6px; max-width: 1000px; }
nav a { margin-right: 14px; }
figure { margin: 12px 0 20px; padding: 8px 12px; background: #fff; border: 1px solid #e2e2e2; border-radius: 4px; }
.plot { min-height: 40px; width: 100%; } .plot.failed { color: #b00020; font-weight: 600; }
table { border-collapse: collapse; margin: 12px 0 20px; background: #fff; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; min-width: 3em; }
th { background: #f0f0f0; } .t { text-align: left; }
.tables { overflow-x: auto; }
footer { color: #666; font-size: 12px; margin-top: 40px; }
`;

function plotFigure(p: PlotSpec): string {
  return (
    `<figure>\n<h3>${escapeHtml(p.title)}</h3>\n<p class="caption">${escapeHtml(p.caption)}</p>\n` +
    `<div class="plot" id="${escapeHtml(p.id)}" data-kind="${p.kind}"></div>\n</figure>`
  );
}

function runMeta(run: ReportRun): string {
  const s = run.summary;
  return (
    `<p class="meta">scenario <strong>${escapeHtml(s.scenario)}</strong>, seed ${num(s.seed)}, ` +
    `${num(s.simulated_ms, 1)} ms simulated, ${num(s.vms.length)} VMs on ${num(s.nodes.length)} NUMA nodes</p>`
  );
}

/** The page, as a string. Throws InputError for inconsistent input (naming the field). */
export function renderReport(input: ReportInput): string {
  validateReportInput(input);
  const lib = plotLibrary();
  const plots = reportPlots(input.runs);
  const figures = (prefix: string): string =>
    plots
      .filter((p) => p.id.startsWith(prefix))
      .map(plotFigure)
      .join('\n');
  const several = input.runs.length > 1;

  const sections: string[] = [];
  sections.push(
    `<section id="overview">\n<h2>${several ? 'Runs compared' : 'Overview'}</h2>\n${figures('overview-')}\n` +
      (several ? `<div class="tables">${comparisonTable(input.runs)}</div>\n` : '') +
      '</section>',
  );
  input.runs.forEach((run, i) => {
    sections.push(
      `<section id="run${i}">\n<h2>${several ? `Run: ${escapeHtml(run.label)}` : escapeHtml(run.label)}</h2>\n` +
        `${runMeta(run)}\n${figures(`run${i}-`)}\n<div class="tables">\n${runTables(run)}\n</div>\n</section>`,
    );
  });
  const nav = several
    ? `<nav><a href="#overview">comparison</a>${input.runs.map((r, i) => `<a href="#run${i}">${escapeHtml(r.label)}</a>`).join('')}</nav>`
    : '';
  const notes = (input.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`).join('\n');
  const data = {
    plots,
    runs: input.runs.map((r) => ({ label: r.label, targets: runTargets(r), summary: plotted(r.summary) })),
  };
  // The library's licence travels with its code; `--` may not appear inside an HTML comment.
  const licence = lib.license.replace(/--/g, '- -').trim();

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${PAGE_CSS}</style>
<style>${lib.css}</style>
</head>
<body data-plots-expected="${plots.length}" data-plots-drawn="0" data-errors="">
<main>
<header>
<h1>${escapeHtml(input.title)}</h1>
${notes === '' ? '' : `<ul class="meta">\n${notes}\n</ul>`}
${nav}
<noscript><p><strong>The plots need JavaScript; the tables below do not.</strong></p></noscript>
</header>
${sections.join('\n')}
<footer>Written by numatier. Plots drawn with ${lib.name} ${escapeHtml(lib.version)} (${escapeHtml(lib.license.split('\n')[0].trim())}), inlined in this file: it opens offline and fetches nothing.</footer>
</main>
<script>${RECORDER_JS}</script>
<!-- ${lib.name} ${escapeHtml(lib.version)}
${escapeHtml(licence)}
-->
<script>${lib.js}</script>
<script type="application/json" id="numatier-data">${jsonForScript(data)}</script>
<script>${MAIN_JS}</script>
</body>
</html>
`;
}

/**
 * The summary as the page's script gets it: without the run's provenance (version, scenario
 * hash), which the page does not draw and which would make every report differ by version.
 */
function plotted(s: Summary): Summary {
  const rest = { ...s };
  delete rest.numatier_version;
  delete rest.scenario_sha256;
  return rest;
}
