import { TIER_RATIO_FILE } from '../host/tier-ratio.js';
import type { RatioStrategyName } from '../policies/ratio/types.js';
import { buildSummary, type VmSummary } from '../report/summary.js';
import { buildRun } from '../scenario/build.js';
import { resolveScenario, type ResolvedScenario } from '../scenario/load.js';
import type { ScenarioInput } from '../scenario/schema.js';
import { InputError } from '../util/errors.js';

/**
 * The SLA curve of one VM (idea S15): its workload run over a range of fast ratios, each point
 * reporting the slowdown and the fast-tier hit ratio, and the smallest ratio that keeps the
 * slowdown within a bound. What a provider could promise a tenant: "at a quarter of your memory
 * in fast memory, this workload runs within 5 % of all-fast".
 *
 * Every point replays the same accesses: a first run at ratio 1 for the scenario's duration
 * counts the VM's accesses (and is the ratio-1 point); each other point then runs exactly that
 * many (workload.accesses), same seed, so points differ only in where the pages are. A point's slowdown is its busy time over
 * the busy time of the same accesses at ratio 1 — the cost of slow memory, without the first-
 * touch faults every run pays alike (the summary's own slowdown, against ideal local DRAM, is
 * reported too). By default the VM runs alone on the scenario's host: the curve then belongs to
 * the workload, not to whatever the neighbours did; `withNeighbours` keeps the other VMs.
 */
export interface SlaOptions {
  /** The scenario document (after --set overrides). */
  raw: unknown;
  baseDir: string;
  defaultName: string;
  vm: string;
  /** Fast shares to try, each in [0, 1]. */
  ratios: readonly number[];
  maxSlowdown: number;
  strategy: RatioStrategyName;
  withNeighbours: boolean;
  /** Duration of the counting run (default: the scenario's). */
  durationMs?: number;
  seed?: number;
  /** Called after each run with (runs done, runs in total). */
  onProgress?: (done: number, total: number) => void;
}

export interface SlaPoint {
  fast_ratio: number;
  /** Busy time relative to the same accesses at ratio 1 (null if the VM was OOM-killed). */
  slowdown: number | null;
  fast_tier_hit_ratio: number;
  /** The summary's slowdown: against every access on the local fast node, uncontended, no faults. */
  slowdown_vs_ideal: number;
  achieved_fast_ratio: number | null;
}

export interface SlaResult {
  vm: string;
  scenario: string;
  seed: number;
  strategy: RatioStrategyName;
  with_neighbours: boolean;
  max_slowdown: number;
  /** Accesses every point replays. */
  accesses: number;
  points: SlaPoint[];
  /** The smallest fast ratio whose slowdown is within max_slowdown, or null. */
  min_fast_ratio: number | null;
}

/** How much longer than the counting run a point may take before it is cut off. */
const TIME_CAP_FACTOR = 50;

export function runSla(o: SlaOptions): SlaResult {
  const base = resolveScenario(o.raw, o.baseDir, o.defaultName);
  const vmIndex = base.vms.findIndex((v) => v.name === o.vm);
  if (vmIndex < 0) {
    throw new InputError(
      `--vm: no VM named ${JSON.stringify(o.vm)} in scenario ${base.name}; VMs: ${base.vms.map((v) => v.name).join(', ')}`,
    );
  }
  if (o.ratios.length === 0) throw new InputError('--ratios: expected at least one fast ratio');
  for (const r of o.ratios) {
    if (!(r >= 0 && r <= 1)) throw new InputError(`--ratios: expected fast ratios between 0 and 1, got ${r}`);
  }
  const seed = o.seed ?? base.seed;
  const durationMs = o.durationMs ?? base.input.duration_ms;
  const ratios = [...new Set(o.ratios)].sort((a, b) => a - b);
  const others = ratios.filter((r) => r !== 1);
  const total = 1 + others.length;
  let done = 0;

  // 1. Count the accesses the VM makes in the duration with all of its memory allowed fast. The
  //    run is the ratio-1 point: replaying exactly its accesses would repeat it event for event.
  const counting = runPoint(o, base, 1, durationMs, null, seed, durationMs);
  o.onProgress?.(++done, total);
  const accesses = counting.vm.accesses;
  if (accesses === 0)
    throw new InputError(`--vm ${o.vm}: the VM made no accesses in ${durationMs} ms (does it start later?)`);

  // 2. Every other point replays exactly those accesses.
  const results = new Map<number, VmSummary>([[1, counting.vm]]);
  for (const r of others) {
    results.set(r, runPoint(o, base, r, durationMs * TIME_CAP_FACTOR, accesses, seed, durationMs).vm);
    o.onProgress?.(++done, total);
  }
  const ref = results.get(1) as VmSummary;
  const points: SlaPoint[] = ratios.map((r) => {
    const v = results.get(r) as VmSummary;
    const ok = !v.oom_killed && !ref.oom_killed && ref.slowdown > 0;
    return {
      fast_ratio: r,
      slowdown: ok ? round(v.slowdown / ref.slowdown) : null,
      fast_tier_hit_ratio: v.fast_tier_hit_ratio,
      slowdown_vs_ideal: v.slowdown,
      achieved_fast_ratio: v.achieved_fast_ratio ?? null,
    };
  });
  const meeting = points.find((p) => p.slowdown !== null && p.slowdown <= o.maxSlowdown);
  return {
    vm: o.vm,
    scenario: base.name,
    seed,
    strategy: o.strategy,
    with_neighbours: o.withNeighbours,
    max_slowdown: o.maxSlowdown,
    accesses,
    points,
    min_fast_ratio: meeting === undefined ? null : meeting.fast_ratio,
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
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
  own[TIER_RATIO_FILE] = String(ratio);
  if (input.schedule !== undefined) input.schedule = input.schedule.filter((e) => !governed(e.cgroup));
  const r = { ...(input.ratio ?? {}), strategy: o.strategy };
  if (o.strategy !== 'rebalance') delete r.rebalance;
  if (o.strategy !== 'userspace') delete r.userspace;
  // Warm-up and sampling as in a run of the counting duration, however long the cap.
  r.warmup_ms = Math.min(r.warmup_ms ?? countingMs / 10, countingMs / 2);
  input.ratio = r;
  input.duration_ms = durationMs;
  input.sample_interval_ms = Math.min(base.sampleIntervalNs / 1e6, countingMs);
  if (accesses !== null) {
    vm.workload = { ...vm.workload, accesses: Math.min(vm.workload.accesses ?? Infinity, accesses) };
  }
  return input;
}

function runPoint(
  o: SlaOptions,
  base: ResolvedScenario,
  ratio: number,
  durationMs: number,
  accesses: number | null,
  seed: number,
  countingMs: number,
): { vm: VmSummary } {
  const sc = resolveScenario(
    pointScenario(o, base, ratio, durationMs, accesses, countingMs),
    o.baseDir,
    base.name,
  );
  const run = buildRun(sc, seed);
  try {
    const idx = sc.vms.findIndex((v) => v.name === o.vm);
    const task = run.sim.tasks[idx];
    if (accesses === null) {
      run.sim.run();
    } else {
      // Neighbours never finish: stop when this VM has replayed its accesses.
      const step = sc.sampleIntervalNs;
      for (let t = step; !task.finished && task.as.alive && t < sc.durationNs + step; t += step)
        run.sim.runUntil(t);
      run.sim.finish();
    }
    return { vm: buildSummary(run).vms[idx] };
  } finally {
    run.close();
  }
}
