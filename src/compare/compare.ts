import { runTasks, type PoolOptions } from '../parallel/pool.js';
import type { ScenarioOutcome, ScenarioTask } from '../parallel/tasks.js';
import type { Summary } from '../report/summary.js';
import { resolveScenario, type ResolvedScenario } from '../scenario/load.js';
import type { ScenarioInput } from '../scenario/schema.js';
import { applyCombination, checkVaryPaths, combinations, type Vary } from '../scenario/vary.js';
import { InputError } from '../util/errors.js';
import { FIGURE_COLUMNS, spread, vmFigures, type Spread, type VmFigures } from './figures.js';

/**
 * `numatier compare`: the user's own scenarios, and each combination of --vary values applied to
 * each, run with the same seeds — one table and one report. Every run's scenario (with its seed
 * in it) is kept, so any row can be rerun alone with `numatier simulate`.
 */
export interface CompareScenario {
  /** The scenario document, after --set overrides. */
  raw: unknown;
  baseDir: string;
  defaultName: string;
}

export interface CompareOptions {
  scenarios: readonly CompareScenario[];
  vary: readonly Vary[];
  /** First seed (default: the first scenario's own), the same for every variant. */
  seed?: number;
  /** Seeds per variant: seed, seed + 1, … */
  seeds: number;
}

export interface CompareRun {
  seed: number;
  /** The scenario document this run resolved, its seed written in. */
  input: ScenarioInput;
  scenario: ResolvedScenario;
}

export interface CompareVariant {
  label: string;
  /** A file-name-safe, unique form of the label: the variant's folder. */
  slug: string;
  scenario: string;
  vary: Record<string, string>;
  runs: CompareRun[];
}

export interface ComparePlan {
  variants: CompareVariant[];
  varied: Vary[];
  /** What besides the policy differs between variants (the first is the reference). */
  differs: string[];
}

export interface CompareRow {
  variant: string;
  vm: string;
  figures: Record<keyof VmFigures, Spread>;
}

export interface CompareResult {
  plan: ComparePlan;
  /** Per variant, per run (in seed order): the outcome. */
  outcomes: ScenarioOutcome[][];
  rows: CompareRow[];
}

const MAX_SEEDS = 1000;

/** Resolves every run before anything starts, so a bad scenario or value fails at once. */
export function planCompare(o: CompareOptions): ComparePlan {
  if (o.scenarios.length === 0) throw new InputError('compare: expected at least one scenario');
  if (!Number.isInteger(o.seeds) || o.seeds < 1 || o.seeds > MAX_SEEDS)
    throw new InputError(`--seeds: expected a whole number from 1 to ${MAX_SEEDS}, got ${o.seeds}`);
  checkVaryPaths(o.vary);
  for (const v of o.vary) {
    if (v.path === 'seed') throw new InputError('--vary seed: use --seed and --seeds to choose seeds');
  }
  const resolved = o.scenarios.map((s) => resolveScenario(s.raw, s.baseDir, s.defaultName));
  const names = resolved.map((r) => r.name);
  // One seed for every variant: the same accesses under each policy.
  const seed0 = o.seed ?? resolved[0].seed;
  const combos = combinations(o.vary);
  const variants: CompareVariant[] = [];
  o.scenarios.forEach((s, i) => {
    for (const combo of combos) {
      const raw = applyCombination(s.raw, combo, s.baseDir, s.defaultName);
      const first = resolveScenario(raw, s.baseDir, s.defaultName);
      const runs: CompareRun[] = [];
      for (let k = 0; k < o.seeds; k++) {
        const seed = seed0 + k;
        const input = { ...first.input, seed } as ScenarioInput;
        runs.push({ seed, input, scenario: resolveScenario(input, s.baseDir, s.defaultName) });
      }
      const parts = [
        ...(o.scenarios.length > 1
          ? [names.filter((n) => n === names[i]).length > 1 ? `${names[i]}#${i + 1}` : names[i]]
          : []),
        ...Object.entries(combo).map(([p, v]) => `${p}=${v}`),
      ];
      const label = parts.length > 0 ? parts.join(' ') : names[i];
      variants.push({ label, slug: '', scenario: names[i], vary: combo, runs });
    }
  });
  variants.forEach(
    (v, i) => (v.slug = `${String(i + 1).padStart(String(variants.length).length, '0')}-${slugOf(v.label)}`),
  );
  return {
    variants,
    varied: o.vary.map((v) => ({ path: v.path, values: [...v.values] })),
    differs: differences(variants),
  };
}

function slugOf(label: string): string {
  return label.replace(/[^A-Za-z0-9._=+-]+/g, '_').slice(0, 80);
}

/** Which parts of the scenario, other than the varied paths, differ from the first variant's. */
function differences(variants: readonly CompareVariant[]): string[] {
  const ref = variants[0].runs[0].input as unknown as Record<string, unknown>;
  const out = new Set<string>();
  for (const v of variants.slice(1)) {
    const input = v.runs[0].input as unknown as Record<string, unknown>;
    for (const key of ['topology', 'vms', 'duration_ms'])
      if (JSON.stringify(input[key]) !== JSON.stringify(ref[key])) out.add(key);
  }
  return [...out];
}

export async function runCompare(plan: ComparePlan, pool: PoolOptions): Promise<CompareResult> {
  const tasks: ScenarioTask[] = plan.variants.flatMap((v) =>
    v.runs.map((r) => ({ kind: 'scenario' as const, scenario: r.scenario, seed: r.seed })),
  );
  const flat = await runTasks(tasks, pool);
  let next = 0;
  const outcomes = plan.variants.map((v) => v.runs.map(() => flat[next++]));
  return { plan, outcomes, rows: compareRows(plan, outcomes) };
}

/** One row per variant and VM: each figure's mean and range over the seeds. */
export function compareRows(plan: ComparePlan, outcomes: readonly ScenarioOutcome[][]): CompareRow[] {
  const rows: CompareRow[] = [];
  plan.variants.forEach((v, i) => {
    const summaries: Summary[] = outcomes[i].map((o) => o.summary);
    for (const vm of summaries[0].vms.map((x) => x.name)) {
      const per = summaries.flatMap((s) => {
        const x = s.vms.find((y) => y.name === vm);
        return x === undefined ? [] : [vmFigures(s, x)];
      });
      const figures = Object.fromEntries(
        FIGURE_COLUMNS.map((c) => [c.key, spread(per.map((f) => f[c.key]))]),
      ) as Record<keyof VmFigures, Spread>;
      rows.push({ variant: v.label, vm, figures });
    }
  });
  return rows;
}
