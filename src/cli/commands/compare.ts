import { resolve } from 'node:path';
import type { Command } from 'commander';
import { compareJson, formatCompare } from '../../compare/format.js';
import { planCompare, runCompare, type CompareResult } from '../../compare/compare.js';
import { renderReport } from '../../report/html.js';
import { checkOutputDir, writeOutputDir } from '../../report/output.js';
import { seriesCSV } from '../../report/timeseries.js';
import { parseVary } from '../../scenario/vary.js';
import { InputError } from '../../util/errors.js';
import { displayPath, jobsOption, parseSeed } from '../options.js';
import { progressReporter } from '../progress.js';
import { collect, scenarioDocument } from './simulate.js';

interface CompareCliOptions {
  vary: string[];
  set: string[];
  seed?: string;
  seeds: string;
  jobs?: string;
  json?: boolean;
  out?: string;
  force?: boolean;
}

/** Every file of a comparison: the table, the JSON, the report, and each run's own result. */
export function compareFiles(r: CompareResult): Record<string, string> {
  const files: Record<string, string> = {
    'table.txt': formatCompare(r) + '\n',
    'results.json': JSON.stringify(compareJson(r), null, 2) + '\n',
  };
  r.plan.variants.forEach((v, i) =>
    v.runs.forEach((run, k) => {
      const at = `variants/${v.slug}/seed-${run.seed}`;
      const o = r.outcomes[i][k];
      files[`${at}/scenario.json`] = JSON.stringify(run.input, null, 2) + '\n';
      files[`${at}/summary.json`] = JSON.stringify(o.summary, null, 2) + '\n';
      files[`${at}/timeseries.csv`] = seriesCSV(o.series.columns, o.series.rows);
    }),
  );
  const seeds = r.plan.variants[0].runs.map((x) => x.seed);
  files['report.html'] = renderReport({
    title: `numatier compare: ${r.plan.variants.map((v) => v.label).join(' vs ')}, seed ${seeds[0]}`,
    runs: r.plan.variants.map((v, i) => ({
      label: v.label,
      summary: r.outcomes[i][0].summary,
      series: r.outcomes[i][0].series,
    })),
    notes: [
      `Same seed (${seeds[0]}) for every variant; the table in table.txt covers seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')}.`,
      ...(r.plan.differs.length > 0
        ? [`The variants differ in more than policy: ${r.plan.differs.join(', ')}.`]
        : []),
      'Each run can be rerun alone: numatier simulate variants/<variant>/seed-<seed>/scenario.json.',
    ],
  });
  return files;
}

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description(
      'run your scenarios (and each --vary combination) with the same seed, side by side: one table and one report',
    )
    .argument('[scenarios...]', 'scenario files (YAML or JSON; none: the built-in low-cost VM host)')
    .option(
      '--vary <path=a,b>',
      'a --set path and values, one variant per combination, e.g. tiering.promotion_filter=always,hot-threshold (repeatable)',
      collect,
      [],
    )
    .option('--set <key=value>', 'override a field of every scenario (repeatable)', collect, [])
    .option('--seed <n>', "first seed (default: the first scenario's, else 1)")
    .option('--seeds <n>', 'seeds per variant: seed, seed+1, …', '1')
    .option('--jobs <n>', 'worker threads running variants at once (default: one per CPU)')
    .option('--out <dir>', 'output directory (default ./numatier-out/compare-<scenario>-<seed>)')
    .option('--force', 'replace what is at --out even if it is not an earlier numatier result')
    .option('--json', 'print results.json instead of the table')
    .action(async (files: string[], o: CompareCliOptions) => {
      if (!/^\d+$/.test(o.seeds))
        throw new InputError(`--seeds: expected a whole number, got ${JSON.stringify(o.seeds)}`);
      const scenarios =
        files.length === 0
          ? [scenarioDocument(undefined, o.set)]
          : files.map((f) => scenarioDocument(f, o.set));
      const plan = planCompare({
        scenarios,
        vary: o.vary.map(parseVary),
        seeds: Number(o.seeds),
        ...(o.seed !== undefined ? { seed: parseSeed(o.seed) } : {}),
      });
      const first = plan.variants[0];
      const out = resolve(o.out ?? `numatier-out/compare-${first.scenario}-${first.runs[0].seed}`);
      checkOutputDir(out, o.force === true);
      const jobs = jobsOption(o.jobs);
      const progress = o.json ? null : progressReporter(`comparing ${plan.variants.length} variants`);
      let result;
      try {
        result = await runCompare(plan, { jobs, onDone: (d, t) => progress?.update(d / t) });
      } finally {
        progress?.stop();
      }
      const written = compareFiles(result);
      writeOutputDir(out, written, { kind: 'compare', force: o.force === true });
      if (o.json) process.stdout.write(written['results.json']);
      else process.stdout.write(`${written['table.txt']}\nwrote ${displayPath(out)}\n`);
    });
}
