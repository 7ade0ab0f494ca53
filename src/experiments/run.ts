import { join } from 'node:path';
import { renderReport } from '../report/html.js';
import { writeOutputDir } from '../report/output.js';
import { resolveScenario } from '../scenario/load.js';
import { runTasks } from '../parallel/pool.js';
import type { ScenarioTask } from '../parallel/tasks.js';
import { InputError } from '../util/errors.js';
import { EXPERIMENTS } from './catalogue/index.js';
import {
  verdictOf,
  type Conclusion,
  type Experiment,
  type ExperimentResult,
  type ExperimentScale,
  type ExperimentVariant,
} from './types.js';

/**
 * Families run together by one name: `published` is every experiment that reproduces a
 * published result (their names start with `published-`).
 */
export const EXPERIMENT_FAMILIES: Readonly<Record<string, string>> = { published: 'published-' };

export function findExperiment(name: string): Experiment {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e)
    throw new InputError(
      `experiment ${JSON.stringify(name)}: unknown; known: ${EXPERIMENTS.map((x) => x.name).join(', ')}, ${Object.keys(EXPERIMENT_FAMILIES).join(', ')}, all`,
    );
  return e;
}

/** The experiments `experiment run NAME` runs: all, a family's members, or the one named. */
export function selectExperiments(name: string): Experiment[] {
  if (name === 'all') return [...EXPERIMENTS];
  const prefix = EXPERIMENT_FAMILIES[name];
  if (prefix !== undefined && Object.hasOwn(EXPERIMENT_FAMILIES, name))
    return EXPERIMENTS.filter((x) => x.name.startsWith(prefix));
  return [findExperiment(name)];
}

export interface ExperimentRun {
  experiment: Experiment;
  seed: number;
  results: ExperimentResult[];
  conclusions: Conclusion[];
}

/** The resolved scenario of each variant, before anything runs. */
function variantTasks(variants: readonly ExperimentVariant[], seed: number): ScenarioTask[] {
  return variants.map((v) => ({
    kind: 'scenario',
    scenario: resolveScenario(v.scenario, process.cwd(), String(v.scenario.name ?? v.label)),
    seed,
  }));
}

export interface ExperimentRunOptions {
  /** Worker threads (default 1: this thread). */
  jobs?: number;
  /** Called as each variant finishes, with (variants done, variants in total). */
  onDone?: (done: number, total: number) => void;
}

/**
 * Runs every variant of the experiments with the same seed, all of them on one pool of `jobs`
 * workers (the variants are independent; results keep the experiments' and variants' order).
 */
export async function runExperiments(
  list: readonly Experiment[],
  seed: number,
  scale: ExperimentScale,
  o: ExperimentRunOptions = {},
): Promise<ExperimentRun[]> {
  const variants = list.map((e) => e.variants(scale));
  const tasks = variants.flatMap((vs) => variantTasks(vs, seed));
  const outcomes = await runTasks(tasks, { jobs: o.jobs ?? 1, onDone: o.onDone });
  let next = 0;
  return list.map((e, i) => {
    const results: ExperimentResult[] = variants[i].map((v) => ({ label: v.label, ...outcomes[next++] }));
    return { experiment: e, seed, results, conclusions: e.conclusions(results) };
  });
}

export async function runExperiment(
  e: Experiment,
  seed: number,
  scale: ExperimentScale,
  o: ExperimentRunOptions = {},
): Promise<ExperimentRun> {
  return (await runExperiments([e], seed, scale, o))[0];
}

/** The table of key figures and the conclusions, as printed. */
export function formatExperiment(run: ExperimentRun): string {
  const e = run.experiment;
  const head = ['variant', ...e.columns.map((c) => c.header)];
  const rows = run.results.map((r) => [r.label, ...e.columns.map((c) => String(c.value(r)))]);
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const lines = [`${e.name} (${e.ideas.join(', ')}): ${e.question}`, ''];
  for (const r of all)
    lines.push(r.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  '));
  lines.push('');
  for (const c of run.conclusions) lines.push(`[${verdictOf(c)}] (${c.kind}) ${c.claim} — ${c.detail}`);
  return lines.join('\n');
}

export function experimentJson(run: ExperimentRun): Record<string, unknown> {
  const e = run.experiment;
  return {
    experiment: e.name,
    ideas: e.ideas,
    question: e.question,
    setup: e.setup,
    seed: run.seed,
    table: run.results.map((r) => ({
      variant: r.label,
      ...Object.fromEntries(e.columns.map((c) => [c.header, c.value(r)])),
    })),
    // `holds` is true only for the verdict "holds", so that a reader of `holds` alone is not misled.
    conclusions: run.conclusions.map((c) => {
      const verdict = verdictOf(c);
      return { claim: c.claim, verdict, holds: verdict === 'holds', detail: c.detail, kind: c.kind };
    }),
    summaries: Object.fromEntries(run.results.map((r) => [r.label, r.summary])),
  };
}

/** Writes results.json, table.txt and report.html for one experiment into `dir`. */
export function writeExperiment(dir: string, run: ExperimentRun, force = false): void {
  const e = run.experiment;
  writeOutputDir(
    dir,
    {
      'results.json': JSON.stringify(experimentJson(run), null, 2) + '\n',
      'table.txt': formatExperiment(run) + '\n',
      'report.html': renderReport({
        title: `numatier experiment: ${e.name}, seed ${run.seed}`,
        runs: run.results.map((r) => ({ label: r.label, summary: r.summary, series: r.series })),
        notes: [
          e.question,
          e.setup,
          ...run.conclusions.map((c) => `${verdictOf(c)}: ${c.claim} (${c.detail})`),
        ],
      }),
    },
    { kind: 'experiment', force },
  );
}

export function defaultExperimentDir(base: string | undefined, name: string, seed: number): string {
  return join(base ?? 'numatier-out/experiments', `${name}-${seed}`);
}
