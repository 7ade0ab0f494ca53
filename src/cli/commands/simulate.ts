import { basename, dirname, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { checkOutputDir, writeOutputDir } from '../../report/output.js';
import { formatSummary } from '../../report/summary.js';
import { renderReport } from '../../report/html.js';
import { DEFAULT_SCENARIO } from '../../scenario/default.js';
import {
  applyOverrides,
  loadScenario,
  readScenarioFile,
  resolveScenario,
  type ResolvedScenario,
} from '../../scenario/load.js';
import { runScenario } from '../../scenario/run.js';
import { displayPath, parseSeed } from '../options.js';
import { progressReporter } from '../progress.js';

export interface ScenarioOptions {
  seed?: string;
  set: string[];
}

/** The scenario named on the command line, or the built-in default; --set applied either way. */
export function scenarioFromArgs(file: string | undefined, o: ScenarioOptions): ResolvedScenario {
  if (file === undefined) {
    return resolveScenario(applyOverrides(DEFAULT_SCENARIO, o.set), process.cwd(), DEFAULT_SCENARIO.name);
  }
  return loadScenario(file, o.set);
}

/**
 * The scenario document named on the command line (or the built-in one) with --set applied, and
 * what resolving it needs: the folder its relative paths start from and its default name.
 */
export function scenarioDocument(
  file: string | undefined,
  sets: readonly string[],
): { raw: unknown; baseDir: string; defaultName: string } {
  if (file === undefined)
    return {
      raw: applyOverrides(DEFAULT_SCENARIO, sets),
      baseDir: process.cwd(),
      defaultName: DEFAULT_SCENARIO.name,
    };
  return {
    raw: applyOverrides(readScenarioFile(file), sets),
    baseDir: dirname(resolve(file)),
    defaultName: basename(file, extname(file)),
  };
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run a scenario on the simulated host (no SCENARIO: the built-in low-cost VM host)')
    .argument('[scenario]', 'scenario file (YAML or JSON)')
    .option('--seed <n>', "random seed (default: the scenario's, else 1)")
    .option('--out <dir>', 'output directory (default ./numatier-out/<scenario>-<seed>)')
    .option('--force', 'replace what is at --out even if it is not an earlier numatier result')
    .option('--json', 'print summary.json to stdout instead of the table')
    .option(
      '--set <key=value>',
      'override a scenario field, e.g. kernel.swappiness=10 (repeatable)',
      collect,
      [],
    )
    .action(
      (file: string | undefined, o: ScenarioOptions & { out?: string; json?: boolean; force?: boolean }) => {
        const sc = scenarioFromArgs(file, o);
        const seed = o.seed !== undefined ? parseSeed(o.seed) : sc.seed;
        const out = resolve(o.out ?? `numatier-out/${sc.name}-${seed}`);
        // Refuse a path that is not ours before spending the run's time, not after.
        checkOutputDir(out, o.force === true);
        const progress = progressReporter(`simulating ${sc.name}`);
        let result;
        try {
          result = runScenario(sc, seed, { onProgress: progress.update });
        } finally {
          progress.stop();
        }
        const summaryText = JSON.stringify(result.summary, null, 2) + '\n';
        writeOutputDir(
          out,
          {
            'summary.json': summaryText,
            'timeseries.csv': result.series.toCSV(),
            'scenario.json': JSON.stringify(sc.input, null, 2) + '\n',
            'report.html': renderReport({
              title: `numatier simulate: ${sc.name}, seed ${seed}`,
              runs: [{ label: sc.name, summary: result.summary, series: result.series }],
            }),
          },
          { kind: 'simulate', force: o.force === true },
        );
        if (o.json) process.stdout.write(summaryText);
        else process.stdout.write(`${formatSummary(result.summary)}\n\nwrote ${displayPath(out)}\n`);
      },
    );
}
