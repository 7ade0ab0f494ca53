import { TIER_RATIO_FILE } from '../host/tier-ratio.js';
import type { PromotionRule, RatioStrategyName } from '../policies/ratio/types.js';
import { RATIO_DEFAULTS } from '../policies/ratio/types.js';
import { RATIO_STRATEGIES } from '../policies/ratio/index.js';
import type { Summary, VmSummary, VmTimeSplit } from '../report/summary.js';
import { runTasks } from '../parallel/pool.js';
import type { StopAfterTask } from '../parallel/tasks.js';
import { resolveScenario, type ResolvedScenario } from '../scenario/load.js';
import { applyCombination, checkVaryPaths, combinations, type Vary } from '../scenario/vary.js';
import type { ScenarioInput } from '../scenario/schema.js';
import { InputError } from '../util/errors.js';
import { MAX_DURATION_MS, MAX_SAMPLES } from '../scenario/limits.js';

/**
 * The SLA curve of one VM (idea S15): its workload run over a range of fast ratios, each point
 * reporting what the tenant would measure — its slowdown, fast-tier hit ratio and where its time
 * went — and the smallest ratio that keeps it within a bound. What a provider could promise a
 * tenant: "at a quarter of your memory in fast memory, this workload runs within 5 % of all-fast".
 *
 * Every point of a curve replays the same accesses: a first run at ratio 1 for the scenario's
 * duration counts the VM's accesses (and is the ratio-1 point); each other point then runs
 * exactly that many (workload.accesses), same seed, so points differ only in where the pages
 * are. Two figures per point, not to be confused:
 * - `slowdown` is simulate's: busy time over the same accesses on all-local, uncontended,
 *   fault-free DRAM;
 * - `vs_ratio_1` is the point's busy time over the ratio-1 point's, the cost of slow memory
 *   without the first-touch faults every point pays alike. `--max-slowdown` bounds this one.
 * By default the VM runs alone on the scenario's host: the curve then belongs to the workload,
 * not to whatever the neighbours did; `withNeighbours` keeps the other VMs.
 *
 * The answer depends on settings (ratio strategy, promotion at quota, numa_balancing, the
 * promotion filter, demotion): every curve reports the values its runs used, read back from the
 * resolved scenario and the run's summary. `vary` runs one curve per combination of values.
 */
export interface SlaOptions {
  /** The scenario document (after --set overrides). */
  raw: unknown;
  baseDir: string;
  defaultName: string;
  vm: string;
  /** Fast shares to try, each in [0, 1]. */
  ratios: readonly number[];
  /** Bound on vs_ratio_1. */
  maxSlowdown: number;
  /** ratio.strategy for every point; absent: the scenario's (after --set), else the default. */
  strategy?: RatioStrategyName;
  withNeighbours: boolean;
  /** --vary: a --set path and the values to try; one curve per combination. */
  vary?: readonly SlaVary[];
  /** Duration of the counting run (default: the scenario's). */
  durationMs?: number;
  seed?: number;
  /** Called after each run with (runs done, runs in total). */
  onProgress?: (done: number, total: number) => void;
  /** Worker threads running points at once (default 1: this thread). */
  jobs?: number;
}

export type SlaVary = Vary;

/** What decided a curve's answer, as the runs used them. */
export interface SlaSettings {
  ratio_strategy: RatioStrategyName;
  ratio_promotion: PromotionRule;
  /** The ratio monitor's warm-up: samples before it are left out of achieved_fast_ratio. */
  ratio_warmup_ms: number;
  numa_balancing: number;
  /** null when numa_balancing is 0 (no hint faults, so no promotion filter runs). */
  promotion_filter: string | null;
  demotion_enabled: boolean;
  demotion_policy: string;
  with_neighbours: boolean;
  seed: number;
  /** Simulated time of the counting run (the ratio-1 point). */
  duration_ms: number;
  /** The other points stop here if they have not replayed their accesses by then. */
  time_cap_ms: number;
  /** Accesses every point replays. */
  accesses_per_point: number;
  /** Busy time counts from the VM's first access: first-touch faults are in every point. */
  measured_from: 'first access';
}

export interface SlaPoint {
  fast_ratio: number;
  /** As in simulate: busy time over all-local, uncontended, fault-free DRAM. */
  slowdown: number;
  /** Busy time over the ratio-1 point's (null if either was OOM-killed). */
  vs_ratio_1: number | null;
  fast_tier_hit_ratio: number;
  achieved_fast_ratio: number | null;
  /** busy = memory + kernel + compute; kernel_by splits the kernel part (summary.json's time_ms). */
  busy_ms: number;
  time_ms: VmTimeSplit;
  promoted_pages: number;
  demoted_pages: number;
  /** The VM's pages demoted to make room for a promotion at quota (ratio.promotion exchange). */
  exchange_demotions: number;
  /** Promotions refused at quota, host-wide (the VM's own unless with neighbours). */
  refused_promotions: number;
  oom_killed: boolean;
  /** False if the point hit the time cap before replaying its accesses. */
  finished: boolean;
}

export interface SlaCurve {
  /** The value of each --vary path for this curve (empty without --vary). */
  vary: Record<string, string>;
  settings: SlaSettings;
  points: SlaPoint[];
  /** The smallest fast ratio whose vs_ratio_1 is within the bound, or null. */
  min_fast_ratio: number | null;
}

export interface SlaResult {
  vm: string;
  scenario: string;
  /** --max-slowdown, and the figure it bounds. */
  bound: { max: number; figure: 'vs_ratio_1' };
  varied: SlaVary[];
  curves: SlaCurve[];
}

/** How much longer than the counting run a point may take before it is cut off. */
const TIME_CAP_FACTOR = 50;

export async function runSla(o: SlaOptions): Promise<SlaResult> {
  const base = resolveScenario(o.raw, o.baseDir, o.defaultName);
  if (base.vms.findIndex((v) => v.name === o.vm) < 0) {
    throw new InputError(
      `--vm: no VM named ${JSON.stringify(o.vm)} in scenario ${base.name}; VMs: ${base.vms.map((v) => v.name).join(', ')}`,
    );
  }
  if (o.ratios.length === 0) throw new InputError('--ratios: expected at least one fast ratio');
  for (const r of o.ratios) {
    if (!(r >= 0 && r <= 1)) throw new InputError(`--ratios: expected fast ratios between 0 and 1, got ${r}`);
  }
  const vary = checkVary(o);
  const ratios = [...new Set(o.ratios)].sort((a, b) => a - b);
  const others = ratios.filter((r) => r !== 1);
  // Every combination is resolved before anything runs, so a bad value fails at once.
  const combos = combinations(vary).map((c) => ({ vary: c, base: variedBase(o, c) }));
  const total = combos.length * (others.length + 1);
  let done = 0;
  const pool = {
    jobs: o.jobs ?? 1,
    onDone: () => o.onProgress?.(++done, total),
  };
  // 1. Per curve, count the accesses the VM makes in the duration with all of its memory
  //    allowed fast. That run is the ratio-1 point: replaying exactly its accesses would repeat
  //    it event for event. 2. Every other point replays exactly those accesses. Within each
  //    step the runs are independent, so they share the pool.
  const counting = await runPoints(
    o,
    combos.map((c) => ({ base: c.base, ratio: 1, accesses: null })),
    pool,
  );
  const accessesOf = counting.map((run, i) => {
    const n = run.vm.accesses;
    if (n === 0)
      throw new InputError(
        `--vm ${o.vm}: the VM made no accesses in ${durationOf(o, combos[i].base)} ms (does it start later?)`,
      );
    return n;
  });
  const rest = await runPoints(
    o,
    combos.flatMap((c, i) => others.map((ratio) => ({ base: c.base, ratio, accesses: accessesOf[i] }))),
    pool,
  );
  const curves = combos.map((c, i) => {
    const runs = new Map<number, PointRun>([[1, counting[i]]]);
    others.forEach((r, j) => runs.set(r, rest[i * others.length + j]));
    return curveOf(o, c.base, ratios, c.vary, runs, accessesOf[i]);
  });
  return {
    vm: o.vm,
    scenario: base.name,
    bound: { max: o.maxSlowdown, figure: 'vs_ratio_1' },
    varied: vary.map((v) => ({ path: v.path, values: [...v.values] })),
    curves,
  };
}

function durationOf(o: SlaOptions, base: ResolvedScenario): number {
  return o.durationMs ?? base.input.duration_ms;
}

function checkVary(o: SlaOptions): SlaVary[] {
  const vary = o.vary ?? [];
  checkVaryPaths(vary);
  for (const v of vary) {
    if (o.strategy !== undefined && v.path === 'ratio.strategy')
      throw new InputError(`--vary ratio.strategy: conflicts with --strategy ${o.strategy}`);
    // --seed and --duration-ms win over the scenario's fields, so a curve per value would not vary.
    if (o.seed !== undefined && v.path === 'seed')
      throw new InputError(`--vary seed: conflicts with --seed ${o.seed}`);
    if (o.durationMs !== undefined && v.path === 'duration_ms')
      throw new InputError(`--vary duration_ms: conflicts with --duration-ms ${o.durationMs}`);
  }
  return [...vary];
}

/** The scenario of one curve, resolved, with errors naming the --vary value that caused them. */
function variedBase(o: SlaOptions, combo: Record<string, string>): ResolvedScenario {
  return resolveScenario(applyCombination(o.raw, combo, o.baseDir, o.defaultName), o.baseDir, o.defaultName);
}

function curveOf(
  o: SlaOptions,
  base: ResolvedScenario,
  ratios: readonly number[],
  vary: Record<string, string>,
  runs: ReadonlyMap<number, PointRun>,
  accesses: number,
): SlaCurve {
  const seed = o.seed ?? base.seed;
  const durationMs = durationOf(o, base);
  const counting = runs.get(1) as PointRun;
  const ref = counting.vm;
  const points: SlaPoint[] = ratios.map((r) => {
    const { vm: v, summary } = runs.get(r) as PointRun;
    const ok = !v.oom_killed && !ref.oom_killed && ref.busy_ms > 0;
    return {
      fast_ratio: r,
      slowdown: v.slowdown,
      vs_ratio_1: ok ? round(v.busy_ms / ref.busy_ms) : null,
      fast_tier_hit_ratio: v.fast_tier_hit_ratio,
      achieved_fast_ratio: v.achieved_fast_ratio ?? null,
      busy_ms: v.busy_ms,
      time_ms: v.time_ms as VmTimeSplit,
      promoted_pages: v.promoted_pages,
      demoted_pages: v.demoted_pages,
      exchange_demotions: v.migrations.ratio_exchange ?? 0,
      refused_promotions: summary.ratio?.refused_promotions ?? 0,
      oom_killed: v.oom_killed,
      // The counting run defines the access count, so it is complete by definition.
      finished: r === 1 || (v.finished && !v.oom_killed),
    };
  });
  const meeting = points.find((p) => p.vs_ratio_1 !== null && p.vs_ratio_1 <= o.maxSlowdown);
  return {
    vary,
    settings: settingsOf(counting, o, seed, durationMs, accesses),
    points,
    min_fast_ratio: meeting === undefined ? null : meeting.fast_ratio,
  };
}

/** The settings as the counting run used them: its resolved scenario and its summary. */
function settingsOf(
  run: PointRun,
  o: SlaOptions,
  seed: number,
  durationMs: number,
  accesses: number,
): SlaSettings {
  const ratio = run.scenario.ratio;
  // pointScenario always sets a tier ratio, so enforcement is always on.
  if (ratio === null) throw new Error('sla: a point ran without ratio enforcement');
  const t = run.summary.tiering;
  return {
    ratio_strategy: ratio.strategy,
    ratio_promotion: ratio.promotion,
    ratio_warmup_ms: ratio.warmupNs / 1e6,
    numa_balancing: t.numa_balancing,
    promotion_filter: t.promotion_filter,
    demotion_enabled: t.demotion_enabled,
    demotion_policy: t.demotion_policy,
    with_neighbours: o.withNeighbours,
    seed: run.summary.seed,
    duration_ms: run.scenario.durationNs / 1e6,
    time_cap_ms: Math.min(durationMs * TIME_CAP_FACTOR, MAX_DURATION_MS),
    accesses_per_point: accesses,
    measured_from: 'first access',
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** A ratio as memory.tier_ratio reads it: the shortest decimal that parses back to it. */
export function ratioText(r: number): string {
  const s = String(r);
  const e = s.indexOf('e-');
  if (e < 0) return s;
  // The control file takes no exponent: the shortest digits that read back as r, shifted
  // behind the point (toFixed would round them to 20 decimals).
  const digits = s.slice(0, e).replace('.', '');
  return `0.${'0'.repeat(Number(s.slice(e + 2)) - 1)}${digits}`;
}

/**
 * The scenario of one point: the VM (alone unless withNeighbours) with `ratio` in its cgroup's
 * memory.tier_ratio — ancestors' ratios and scheduled changes of those groups removed, so the
 * point's ratio alone governs — and the chosen strategy. A VM in the root cgroup is moved to a
 * group of its own, since the root has no control files.
 */
export function pointScenario(
  o: SlaOptions,
  base: ResolvedScenario,
  ratio: number,
  durationMs: number,
  accesses: number | null,
  countingMs: number,
): unknown {
  const input = structuredClone(base.input) as ScenarioInput & Record<string, unknown>;
  const vm = input.vms.find((v) => v.name === o.vm);
  if (vm === undefined) throw new InputError(`--vm: no VM named ${JSON.stringify(o.vm)}`);
  if (!o.withNeighbours) input.vms = [vm];
  const cgroups = input.cgroups ?? [];
  input.cgroups = cgroups;
  let path = vm.cgroup ?? '/';
  if (path === '/') {
    path = '/numatier-sla';
    cgroups.push({ path });
    vm.cgroup = path;
  }
  const governed = (p: string): boolean => p === '/' || path === p || path.startsWith(`${p}/`);
  for (const c of cgroups) {
    if (governed(c.path)) delete c[TIER_RATIO_FILE];
  }
  const own = cgroups.find((c) => c.path === path);
  if (own === undefined) throw new InputError(`--vm ${o.vm}: its cgroup ${path} is not listed`);
  own[TIER_RATIO_FILE] = ratioText(ratio);
  if (input.schedule !== undefined) input.schedule = input.schedule.filter((e) => !governed(e.cgroup));
  const r = { ...(input.ratio ?? {}) };
  if (o.strategy !== undefined) r.strategy = o.strategy;
  // A strategy's option block is refused under another strategy; the sweep may have changed it.
  const strategy = r.strategy ?? RATIO_DEFAULTS.strategy;
  for (const id of RATIO_STRATEGIES) if (id !== strategy) delete (r as Record<string, unknown>)[id];
  // Warm-up and sampling as in a run of the counting duration, however long the cap.
  r.warmup_ms = Math.min(r.warmup_ms ?? countingMs * RATIO_DEFAULTS.warmupFraction, countingMs / 2);
  input.ratio = r;
  // The cap is the sweep's, not the user's: kept within a run's bounds, sampled no finer than
  // a run may be (scenario/limits.ts).
  input.duration_ms = Math.min(durationMs, MAX_DURATION_MS);
  input.sample_interval_ms = Math.max(
    Math.min(base.sampleIntervalNs / 1e6, countingMs),
    input.duration_ms / MAX_SAMPLES,
  );
  if (accesses !== null) {
    vm.workload = { ...vm.workload, accesses: Math.min(vm.workload.accesses ?? Infinity, accesses) };
  }
  return input;
}

interface PointRun {
  vm: VmSummary;
  summary: Summary;
  scenario: ResolvedScenario;
}

interface PointSpec {
  base: ResolvedScenario;
  ratio: number;
  /** null: the counting run, for the scenario's duration. */
  accesses: number | null;
}

async function runPoints(
  o: SlaOptions,
  specs: readonly PointSpec[],
  pool: { jobs: number; onDone: () => void },
): Promise<PointRun[]> {
  const tasks: StopAfterTask[] = specs.map((p) => {
    const durationMs = durationOf(o, p.base);
    const capMs = p.accesses === null ? durationMs : durationMs * TIME_CAP_FACTOR;
    const sc = resolveScenario(
      pointScenario(o, p.base, p.ratio, capMs, p.accesses, durationMs),
      o.baseDir,
      p.base.name,
    );
    return {
      kind: 'stop-after',
      scenario: sc,
      seed: o.seed ?? p.base.seed,
      vm: sc.vms.findIndex((v) => v.name === o.vm),
      accesses: p.accesses,
    };
  });
  const outcomes = await runTasks(tasks, pool);
  return outcomes.map(({ summary }, i) => ({
    vm: summary.vms[tasks[i].vm],
    summary,
    scenario: tasks[i].scenario,
  }));
}
