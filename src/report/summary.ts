import { VMSTAT_ITEMS } from '../host/vmstat.js';
import { KERNEL_WORK, type KernelWork } from '../host/kernel-work.js';
import type { KernelMemory } from '../host/slab.js';
import { MIGRATE_REASONS, MR } from '../host/migration-ledger.js';
import type { BuiltRun } from '../scenario/build.js';
import { PAGE_SIZE } from '../util/units.js';
import type { ComputeModel } from '../workloads/types.js';
import type { Task } from '../engine/simulation.js';
import { memoryStat, numaStat } from './stats.js';
import { describeRule } from '../engine/measure-window.js';
import {
  busyNs,
  diffVm,
  memcgEvent,
  takeSnapshot,
  vmstatGlobal,
  type VmCounters,
} from '../metrics/snapshot.js';
import { contentHash } from '../util/hash.js';
import { packageVersion } from '../util/version.js';
import {
  tierControlSummary,
  vmRatioFields,
  type TierControlSummary,
  type VmRatioFields,
} from '../policies/ratio/index.js';

/**
 * summary.json: what a run cost each tenant and what the kernel did. Definitions:
 * - amat_ns: mean latency of the VM's memory accesses (cache-line misses), contention included;
 * - slowdown: the VM's busy time (memory time + kernel work it paid + compute) divided by the
 *   same accesses' time had each hit the VM's local node uncontended with no faults or
 *   migrations (docs/metrics.md);
 * - fast_tier_hit_ratio: share of accesses served by top-tier nodes (node_is_toptier()).
 */
/** The ratio fields (VmRatioFields) are always written; optional so hand-built summaries may omit them. */
export interface VmSummary extends Partial<VmRatioFields> {
  name: string;
  cgroup: string;
  cpu_node: number;
  accesses: number;
  reads: number;
  writes: number;
  amat_ns: number;
  kernel_ns_per_access: number;
  /** Time the VM slept, throttled for its group's memory.high (part of its kernel time). */
  memory_high_throttle_ms: number;
  slowdown: number;
  fast_tier_hit_ratio: number;
  busy_ms: number;
  /**
   * busy_ms split: memory time (after mlp overlap), kernel work by kind (KERNEL_WORK, plus
   * `other` for kernel time no site attributed) and compute. Optional for hand-built summaries.
   */
  time_ms?: VmTimeSplit;
  ideal_ms: number;
  rss_pages: number;
  fast_share: number;
  pages_by_node: Record<string, number>;
  hits_by_node: Record<string, number>;
  oom_killed: boolean;
  finished: boolean;
  /** Exact simulated time at which the VM finished (its workload ended, or it was OOM-killed); null while running. */
  finished_ms: number | null;
  /** Pages migrated, by the mechanism that moved them. */
  migrations: Record<string, number>;
  promoted_pages: number;
  demoted_pages: number;
  /** Pages demoted again within the ping-pong window of their promotion. */
  pingpong_pages: number;
  /** Demotions into a node the page had already left by demotion in the same cycle. */
  demotion_cycles: number;
  /** MiB/s moved to faster / slower tiers over the run. */
  promote_mib_per_s: number;
  demote_mib_per_s: number;
  /** Thrashing: ping-pong is at least 10 % of promotions and at least 1000 pages. */
  thrashing: boolean;
  /** Share of the footprint touched at least once by the end: below 1, the run ended in its first pass. */
  footprint_touched: number;
  /** The same figures over the VM's measured window (scenario `measure:`); null if it never opened. */
  measured: MeasuredFigures | null;
  /** Unmovable kernel memory of the VM (S13): pages per node id, and pages it could not get. */
  kernel_memory: { pages_by_node: Record<string, number>; failed_pages: number } | null;
  /**
   * Where the VM's compute time came from (docs/traces.md, "Compute time"), and what it was charged:
   * compute_ms in all; for 'trace instructions' also the instructions charged. Optional so that
   * hand-built summaries may omit it.
   */
  compute_model?: VmComputeModel;
}

export interface VmTimeSplit {
  memory: number;
  kernel: number;
  compute: number;
  kernel_by: Record<KernelWork | 'other', number>;
}

/** A task's busy time split into memory, kernel work by kind and compute, in ms. */
export function timeSplit(
  s: Pick<VmCounters, 'memoryNs' | 'kernelNs' | 'computeNs'>,
  byKind: Float64Array,
): VmTimeSplit {
  const by = {} as Record<KernelWork | 'other', number>;
  let attributed = 0;
  for (const [i, k] of KERNEL_WORK.entries()) {
    by[k] = round(byKind[i] / 1e6, 6);
    attributed += byKind[i];
  }
  by.other = round((s.kernelNs - attributed) / 1e6, 6);
  return {
    memory: round(s.memoryNs / 1e6, 6),
    kernel: round(s.kernelNs / 1e6, 6),
    compute: round(s.computeNs / 1e6, 6),
    kernel_by: by,
  };
}

/** The stream's ComputeModel, with what was charged under it. */
export type VmComputeModel = ComputeModel & { compute_ms: number; instructions?: number };

export interface Summary {
  scenario: string;
  seed: number;
  /** numatier's version that ran it (optional so that hand-built summaries may omit it). */
  numatier_version?: string;
  /** sha256 of the scenario as run (its input after --set overrides) as canonical JSON. */
  scenario_sha256?: string;
  simulated_ms: number;
  /** When each VM's measured window opens, in words ("the whole run" without `measure:`). */
  measure: string;
  vms: VmSummary[];
  nodes: {
    id: number;
    tier: number;
    toptier: boolean;
    capacity_pages: number;
    free_pages: number;
    kswapd_ms: number;
    /** numatier's own count of kswapd wake-ups (the kernel has no /proc/vmstat counter for it). */
    kswapd_wakeups: number;
    memory_side_cache?: { size_pages: number; hits: number; misses: number; hit_ratio: number };
  }[];
  cgroups: {
    path: string;
    memory_current: number;
    memory_max: number | 'max';
    memory_high: number | 'max';
    /** memory.low and memory.min as set, in bytes (docs/cgroups.md). */
    memory_low: number;
    memory_min: number;
    memory_swap_current: number;
    memory_swap_max: number | 'max';
    /** memory.peak and memory.swap.peak, in bytes. */
    memory_peak: number;
    memory_swap_peak: number;
    numa_stat: Record<string, Record<string, number>>;
    memory_stat: Record<string, number>;
    memory_events: Record<string, number>;
  }[];
  vmstat: Record<string, number>;
  /** memory.tier_ratio enforcement and tenant hints (docs/ratios.md); null when unused. */
  ratio?: TierControlSummary | null;
  swap: { total_pages: number; used_pages: number };
  tiering: {
    demotion_enabled: boolean;
    demotion_policy: string;
    numa_balancing: number;
    promotion_filter: string | null;
    /** Hint faults the promotion filter turned down: page not hot enough. */
    not_hot: number;
    /** … turned down by the promotion rate limit. */
    rate_limited: number;
    /**
     * Promotions the filter allowed without the hotness test because the fast node had free
     * space (the kernel's PROMOTE_FREE_SPACE path); they may still be refused below.
     */
    promote_free_space: number;
    /** Allowed promotions refused because the fast node was not above its high watermark. */
    failed_watermark: number;
    /** Allowed promotions refused by the group's fast-memory quota (memory.tier_ratio). */
    refused_by_quota: number;
    pgpromote_candidate_by_node: Record<string, number>;
    hot_threshold_ms_by_node: Record<string, number>;
  };
}

/** A VM's figures over its measured window: from when it opened to the end of the run. */
export interface MeasuredFigures {
  from_ms: number;
  accesses: number;
  amat_ns: number;
  kernel_ns_per_access: number;
  slowdown: number;
  fast_tier_hit_ratio: number;
  busy_ms: number;
  promoted_pages: number;
  demoted_pages: number;
}

/**
 * The figures over a VM's measured window: the diff of its counters from the window's start to
 * `end`. Busy time is end's minus start's, not the diff's sum (see busyNs), as it always was.
 */
function measuredFigures(run: BuiltRun, t: Task, end: VmCounters): MeasuredFigures | null {
  const w = run.sim.measure?.starts[t.as.id] ?? null;
  if (w === null) return null;
  const d = diffVm(w, end);
  const accesses = d.accesses;
  const busy = busyNs(end) - busyNs(w);
  const ideal = d.idealNs;
  let fastHits = 0;
  for (let n = 0; n < run.host.nodes; n++) if (run.host.toptier[n]) fastHits += d.hitsByNode[n];
  return {
    from_ms: round(w.clockNs / 1e6, 6),
    accesses,
    amat_ns: round(accesses > 0 ? d.latencyNs / accesses : 0, 3),
    kernel_ns_per_access: round(accesses > 0 ? d.kernelNs / accesses : 0, 3),
    slowdown: round(ideal > 0 ? busy / ideal : 1),
    fast_tier_hit_ratio: round(accesses > 0 ? fastHits / accesses : 0),
    busy_ms: round(busy / 1e6, 6),
    promoted_pages: d.promoted,
    demoted_pages: d.demoted,
  };
}

/** A cgroup limit in pages as its control file reads: bytes, or "max" when unlimited. */
function limitBytes(pages: number): number | 'max' {
  return Number.isFinite(pages) ? pages * PAGE_SIZE : 'max';
}

function round(x: number, digits = 6): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** summary.json of a run that has ended: its counters are one snapshot, taken now. */
export function buildSummary(run: BuiltRun): Summary {
  const { host, sim, topo, scenario } = run;
  const ids = topo.nodes.map((n) => n.id);
  const snap = takeSnapshot(sim, run.numa, run.tierControl);
  const vms: VmSummary[] = sim.tasks.map((t, i) => {
    const s = snap.vms[i];
    const busy = busyNs(s);
    let fastHits = 0;
    let fastPages = 0;
    let rss = 0;
    const pagesByNode: Record<string, number> = {};
    const hitsByNode: Record<string, number> = {};
    for (let n = 0; n < host.nodes; n++) {
      if (host.toptier[n]) {
        fastHits += s.hitsByNode[n];
        fastPages += s.rssByNode[n];
      }
      rss += s.rssByNode[n];
      pagesByNode[String(ids[n])] = s.rssByNode[n];
      hitsByNode[String(ids[n])] = s.hitsByNode[n];
    }
    const migrations: Record<string, number> = {};
    for (const r of MIGRATE_REASONS) migrations[r] = s.migrations[MR[r]];
    const secs = snap.atNs > 0 ? snap.atNs / 1e9 : 1;
    const up = s.promoted;
    const pingpong = s.pingpong;
    return {
      name: t.as.name,
      cgroup: scenario.vms[i].cgroup,
      cpu_node: scenario.vms[i].cpuNode,
      accesses: s.accesses,
      reads: s.reads,
      writes: s.writes,
      amat_ns: round(s.accesses > 0 ? s.latencyNs / s.accesses : 0, 3),
      kernel_ns_per_access: round(s.accesses > 0 ? s.kernelNs / s.accesses : 0, 3),
      memory_high_throttle_ms: round(s.highThrottleNs / 1e6, 6),
      slowdown: round(s.idealNs > 0 ? busy / s.idealNs : 1),
      fast_tier_hit_ratio: round(s.accesses > 0 ? fastHits / s.accesses : 0),
      busy_ms: round(busy / 1e6, 6),
      time_ms: timeSplit(s, s.kernelNsBy),
      ideal_ms: round(s.idealNs / 1e6, 6),
      rss_pages: rss,
      fast_share: round(rss > 0 ? fastPages / rss : 0),
      pages_by_node: pagesByNode,
      hits_by_node: hitsByNode,
      oom_killed: !t.as.alive,
      finished: t.finished,
      finished_ms: t.finished ? round(t.finishedNs / 1e6, 6) : null,
      migrations,
      promoted_pages: up,
      demoted_pages: s.demoted,
      pingpong_pages: pingpong,
      demotion_cycles: s.demotionCycles,
      promote_mib_per_s: round((up * PAGE_SIZE) / 2 ** 20 / secs, 3),
      demote_mib_per_s: round((s.demoted * PAGE_SIZE) / 2 ** 20 / secs, 3),
      thrashing: pingpong >= 1000 && pingpong >= 0.1 * up,
      // Rounded down, so that a footprint with a page left untouched never reads 1.
      footprint_touched: t.as.pages > 0 ? Math.floor((s.touchedPages / t.as.pages) * 1e6) / 1e6 : 1,
      measured: measuredFigures(run, t, s),
      kernel_memory: kernelMemoryOf(run.kernelMemory[i] ?? null, ids),
      compute_model: computeModelOf(t, s),
      ...vmRatioFields(run.tierControl, snap.ratio, host, t.as.id),
    };
  });
  const vmstat: Record<string, number> = {};
  for (const [i, name] of VMSTAT_ITEMS.entries()) vmstat[name] = vmstatGlobal(snap, i);
  const cg = host.cgroups;
  const promo = snap.promotion;
  return {
    scenario: scenario.name,
    seed: run.seed,
    numatier_version: packageVersion(),
    scenario_sha256: contentHash(scenario.input),
    simulated_ms: round(snap.atNs / 1e6, 6),
    measure: describeRule(scenario.measure),
    vms,
    nodes: topo.nodes.map((n, i) => ({
      id: n.id,
      tier: n.tier,
      toptier: n.toptier,
      capacity_pages: n.capacityPages,
      free_pages: snap.freePages[i],
      kswapd_ms: round(snap.kswapdNs[i] / 1e6, 6),
      kswapd_wakeups: snap.kswapdWakeups[i],
      ...(n.sideCache
        ? {
            memory_side_cache: {
              size_pages: n.sideCache.sizePages,
              hits: snap.sideHits[i],
              misses: snap.sideMisses[i],
              hit_ratio: round(snap.sideHits[i] / Math.max(1, snap.sideHits[i] + snap.sideMisses[i])),
            },
          }
        : {}),
    })),
    cgroups: cg.paths.map((path, c) => {
      const ns = numaStat(host, c);
      return {
        path,
        memory_current: snap.memcgUsage[c] * PAGE_SIZE,
        memory_max: limitBytes(cg.memoryMax[c]),
        memory_high: limitBytes(cg.memoryHigh[c]),
        memory_low: cg.memoryLow[c] * PAGE_SIZE,
        memory_min: cg.memoryMin[c] * PAGE_SIZE,
        memory_swap_current: cg.swapUsage[c] * PAGE_SIZE,
        memory_swap_max: limitBytes(cg.swapMax[c]),
        memory_peak: cg.peak[c] * PAGE_SIZE,
        memory_swap_peak: cg.swapPeak[c] * PAGE_SIZE,
        numa_stat: ns,
        memory_stat: memoryStat(host, c, ns),
        memory_events: {
          low: memcgEvent(snap, c, 'low'),
          high: memcgEvent(snap, c, 'high'),
          max: memcgEvent(snap, c, 'max'),
          oom: memcgEvent(snap, c, 'oom'),
          oom_kill: memcgEvent(snap, c, 'oom_kill'),
        },
      };
    }),
    vmstat,
    ratio: tierControlSummary(run.tierControl, snap.ratio, host),
    swap: { total_pages: host.swapPages, used_pages: snap.swapUsed },
    tiering: {
      demotion_enabled: host.demotionEnabled,
      demotion_policy: host.demotion?.name ?? 'none',
      numa_balancing: host.numaBalancing,
      promotion_filter: run.numa?.o.filter.name ?? null,
      not_hot: promo?.notHot ?? 0,
      rate_limited: promo?.rateLimited ?? 0,
      promote_free_space: promo?.promoteFreeSpace ?? 0,
      failed_watermark: promo?.failedWatermark ?? 0,
      refused_by_quota: promo?.refusedByQuota ?? 0,
      pgpromote_candidate_by_node: Object.fromEntries(
        ids.map((id, i) => [String(id), promo?.candidates[i] ?? 0]),
      ),
      hot_threshold_ms_by_node: Object.fromEntries(
        ids.map((id, i) => [
          String(id),
          run.numa ? run.numa.o.states[i].nbp_threshold || run.numa.o.tunables.hot_threshold : 0,
        ]),
      ),
    },
  };
}

function computeModelOf(t: Task, s: VmCounters): VmComputeModel {
  const computeMs = round(s.computeNs / 1e6, 6);
  const m = t.stream.computeModel;
  // Synthetic workloads: their compute_ns (the mean per access when phases differ).
  if (m === undefined)
    return {
      source: 'compute_ns',
      compute_ns: round(s.accesses > 0 ? s.computeNs / s.accesses : 0, 6),
      compute_ms: computeMs,
    };
  if (m.source === 'trace instructions')
    return { ...m, compute_ms: computeMs, instructions: Math.round(s.computeNs / m.ns_per_instruction) };
  return { ...m, compute_ms: computeMs };
}

function kernelMemoryOf(km: KernelMemory | null, ids: number[]): VmSummary['kernel_memory'] {
  if (km === null) return null;
  return {
    pages_by_node: Object.fromEntries(ids.map((id, n) => [String(id), km.pagesByNode[n]])),
    failed_pages: km.failed,
  };
}

/** A few lines for the terminal. */
/** Whether the run's figures are over a measured window (a `measure:` rule), not the whole run. */
export function hasMeasuredWindow(s: Summary): boolean {
  return s.measure !== undefined && s.measure !== 'the whole run';
}

export function formatSummary(s: Summary): string {
  const lines: string[] = [];
  lines.push(`scenario ${s.scenario}, seed ${s.seed}, ${s.simulated_ms.toFixed(1)} ms simulated`);
  const windowed = hasMeasuredWindow(s);
  if (windowed)
    lines.push(`accesses, amat_ns, slowdown and fast_hit: measured ${s.measure} (summary.json has both)`);
  lines.push('');
  const head = [
    'vm',
    'accesses',
    'amat_ns',
    'slowdown',
    'fast_hit',
    'fast_share',
    'rss_MiB',
    'touched',
    'status',
  ];
  const rows = s.vms.map((v) => {
    const m = windowed ? v.measured : v;
    const fig = (x: number | undefined, d: number) => (m === null || x === undefined ? '-' : x.toFixed(d));
    return [
      v.name,
      m === null ? '-' : String(m.accesses),
      fig(m?.amat_ns, 1),
      fig(m?.slowdown, 3),
      fig(m?.fast_tier_hit_ratio, 3),
      v.fast_share.toFixed(3),
      ((v.rss_pages * PAGE_SIZE) / 2 ** 20).toFixed(0),
      `${Math.floor((v.footprint_touched ?? 1) * 100)}%`,
      v.oom_killed ? 'oom-killed' : v.finished ? 'finished' : 'running',
    ];
  });
  lines.push(...table([head, ...rows]));
  const partial = s.vms.filter((v) => (v.footprint_touched ?? 1) < 1).map((v) => v.name);
  if (partial.length > 0) {
    lines.push(
      `${partial.join(', ')}: had not touched all of ${partial.length > 1 ? 'their footprints' : 'its footprint'} when the run ended; ` +
        'the figures include warm-up (run longer, or measure: {after_first_pass: true})',
    );
  }
  if (windowed) {
    const never = s.vms.filter((v) => v.measured === null).map((v) => v.name);
    if (never.length > 0) lines.push(`${never.join(', ')}: the measured window never opened ("-")`);
  }
  lines.push('');
  const nodeRows = s.nodes.map((n) => [
    String(n.id),
    String(n.tier),
    n.toptier ? 'yes' : 'no',
    ((n.capacity_pages * PAGE_SIZE) / 2 ** 20).toFixed(0),
    ((n.free_pages * PAGE_SIZE) / 2 ** 20).toFixed(0),
    n.kswapd_ms.toFixed(1),
  ]);
  lines.push(...table([['node', 'tier', 'toptier', 'size_MiB', 'free_MiB', 'kswapd_ms'], ...nodeRows]));
  lines.push('');
  const keys = [
    'pgfault',
    'pgmajfault',
    'pgsteal_kswapd',
    'pgsteal_direct',
    'pswpin',
    'pswpout',
    'pgdemote_kswapd',
    'pgdemote_direct',
    'pgpromote_success',
    'numa_hint_faults',
    'oom_kill',
  ];
  lines.push(keys.map((k) => `${k} ${s.vmstat[k] ?? 0}`).join('  '));
  return lines.join('\n');
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c])))
      .join('  ')
      .trimEnd(),
  );
}
