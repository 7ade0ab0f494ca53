import type { NumaTiering } from '../host/numa-tiering.js';
import type { TierControl } from '../policies/ratio/index.js';
import type { Simulation, Task } from '../engine/simulation.js';
import { MEMORY_EVENTS } from '../host/cgroups.js';
import { NR_MIGRATE_REASONS } from '../host/migration-ledger.js';
import { globalEvent } from '../host/vmstat.js';

/**
 * Every counter of a run at one instant, copied out of the holders that keep them while it runs
 * (TaskStats, AddressSpace, MigrationLedger, Vmstat, CgroupTree, the engine's per-node arrays,
 * NUMA balancing's own counters). Readers that measure a window — the time series between
 * samples, a VM's measured window, the bench's timed window, the summary over the whole run —
 * take one snapshot at each end and read the `diff()`.
 *
 * Counters only grow; `diff(a, b)` subtracts them. Gauges (levels: free pages, resident pages,
 * memory.current) are marked as such and a diff carries the later one's. Nothing here runs on
 * the access path: snapshots are taken at sample times, when a window opens, and at the end.
 * docs/metrics.md lists the fields.
 */

/** One VM's counters (its TaskStats, its address space's, its ledger lines). */
export interface VmCounters {
  /** Gauge: the VM's own clock, ns. A VM's window opens on it, not on the simulation's clock. */
  clockNs: number;
  accesses: number;
  reads: number;
  writes: number;
  /** Sum of access latencies, ns, before mlp overlap: the AMAT numerator. */
  latencyNs: number;
  memoryNs: number;
  kernelNs: number;
  computeNs: number;
  idealNs: number;
  /** Accesses served per node (dense index). */
  hitsByNode: Float64Array;
  /** Kernel time by kind (KERNEL_WORK order), ns. */
  kernelNsBy: Float64Array;
  highThrottleNs: number;
  /** Distinct pages faulted in at least once. */
  touchedPages: number;
  /** Pages migrated, by reason (MIGRATE_REASONS order). */
  migrations: Float64Array;
  promoted: number;
  demoted: number;
  pingpong: number;
  demotionCycles: number;
  /** Gauge: resident pages per node. */
  rssByNode: Float64Array;
}

/** NUMA balancing's own counters (numa-tiering.ts), beside its vmstat events. */
export interface PromotionCounters {
  notHot: number;
  rateLimited: number;
  promoteFreeSpace: number;
  failedWatermark: number;
  refusedByQuota: number;
  /** Per node: the filter's pgpromote_candidate. */
  candidates: Float64Array;
}

export interface Snapshot {
  /** The simulated time it was taken at, ns. */
  atNs: number;
  /** Where the counters count from, ns: 0 for a snapshot, the earlier end for a diff. */
  sinceNs: number;
  vms: VmCounters[];
  /** Per node: kswapd busy time (ns), kswapd wake-ups, memory-side cache hits and misses. */
  kswapdNs: Float64Array;
  kswapdWakeups: Float64Array;
  sideHits: Float64Array;
  sideMisses: Float64Array;
  /** Gauge: free pages per node. */
  freePages: Float64Array;
  /** Every vmstat event per (memcg, node), in Vmstat.counts' layout. */
  vmstat: Float64Array;
  /** The part of it /proc/vmstat leaves out, per (node, item): Vmstat.memcgOnly. */
  vmstatMemcgOnly: Float64Array;
  /** memory.events per memcg, MEMORY_EVENTS order: [memcg * MEMORY_EVENTS.length + event]. */
  memcgEvents: Float64Array;
  /** Gauges: memory.current per memcg, and each memcg's own pages per (memcg, node). */
  memcgUsage: Float64Array;
  memcgNodePages: Float64Array;
  /** Gauge: swap slots in use. */
  swapUsed: number;
  /** NUMA balancing's counters, null when it is off. */
  promotion: PromotionCounters | null;
  /** The tier-ratio machinery's counters, null when no group has memory.tier_ratio. */
  ratio: RatioCounters | null;
}

/** Tenant madvise hints' counters (policies/madvise.ts). */
export interface HintCounters {
  calls: number;
  promoted: number;
  madeRoom: number;
  deactivated: number;
  pagedOut: number;
}

/**
 * The ratio strategies' and the ratio monitor's counters (policies/ratio/). The monitor's sums
 * are over its samples after its warm-up, so a window's mean error is errSum / samples of the
 * window's diff; its maximum cannot be subtracted and is a gauge (the maximum so far).
 */
export interface RatioCounters {
  exchanges: number;
  refusedPromotions: number;
  enforcementRuns: number;
  enforcementChargedNs: number;
  hints: HintCounters | null;
  /** Per address space (a VM's as.id): monitor samples counted, and the sums of |achieved − target| and of achieved. */
  samples: Float64Array;
  errSum: Float64Array;
  achievedSum: Float64Array;
  /** Gauges per address space: the largest error so far; the target (-1: "max") and the achieved share now. */
  errMax: Float64Array;
  target: Float64Array;
  achieved: Float64Array;
}

/** Copies one task's counters now. */
export function takeVmCounters(sim: Simulation, t: Task): VmCounters {
  const s = t.stats;
  const as = t.as;
  const L = sim.host.ledger;
  const id = as.id;
  return {
    clockNs: t.clockNs,
    accesses: s.accesses,
    reads: s.reads,
    writes: s.writes,
    latencyNs: s.latencyNs,
    memoryNs: s.memoryNs,
    kernelNs: s.kernelNs,
    computeNs: s.computeNs,
    idealNs: s.idealNs,
    hitsByNode: Float64Array.from(s.hitsByNode),
    kernelNsBy: Float64Array.from(as.kernelNsBy),
    highThrottleNs: as.highThrottleNs,
    touchedPages: as.touchedPages,
    migrations: L.pages.slice(id * NR_MIGRATE_REASONS, (id + 1) * NR_MIGRATE_REASONS),
    promoted: L.up[id],
    demoted: L.down[id],
    pingpong: L.pingpong[id],
    demotionCycles: L.demotionCycles[id],
    rssByNode: Float64Array.from(as.rssByNode),
  };
}

/** Copies the ratio machinery's counters now. */
export function takeRatioCounters(tc: TierControl, spaces: number): RatioCounters {
  const m = tc.monitor;
  const target = new Float64Array(spaces).fill(-1);
  const achieved = new Float64Array(spaces);
  if (m !== null)
    for (let i = 0; i < spaces; i++) {
      const c = m.current(i);
      target[i] = c.target ?? -1;
      achieved[i] = c.achieved;
    }
  const h = tc.hints?.stats;
  return {
    exchanges: tc.stats.exchanges,
    refusedPromotions: tc.stats.refusedPromotions,
    enforcementRuns: tc.stats.runs,
    enforcementChargedNs: tc.stats.chargedNs,
    hints:
      h === undefined
        ? null
        : {
            calls: h.calls,
            promoted: h.promoted,
            madeRoom: h.madeRoom,
            deactivated: h.deactivated,
            pagedOut: h.pagedOut,
          },
    samples: m === null ? new Float64Array(spaces) : Float64Array.from(m.samples),
    errSum: m === null ? new Float64Array(spaces) : Float64Array.from(m.errSum),
    achievedSum: m === null ? new Float64Array(spaces) : Float64Array.from(m.achievedSum),
    errMax: m === null ? new Float64Array(spaces) : Float64Array.from(m.errMax),
    target,
    achieved,
  };
}

function diffRatio(a: RatioCounters, b: RatioCounters): RatioCounters {
  const ha = a.hints;
  const hb = b.hints;
  return {
    exchanges: b.exchanges - a.exchanges,
    refusedPromotions: b.refusedPromotions - a.refusedPromotions,
    enforcementRuns: b.enforcementRuns - a.enforcementRuns,
    enforcementChargedNs: b.enforcementChargedNs - a.enforcementChargedNs,
    hints:
      ha === null || hb === null
        ? hb
        : {
            calls: hb.calls - ha.calls,
            promoted: hb.promoted - ha.promoted,
            madeRoom: hb.madeRoom - ha.madeRoom,
            deactivated: hb.deactivated - ha.deactivated,
            pagedOut: hb.pagedOut - ha.pagedOut,
          },
    samples: sub(a.samples, b.samples),
    errSum: sub(a.errSum, b.errSum),
    achievedSum: sub(a.achievedSum, b.achievedSum),
    errMax: Float64Array.from(b.errMax),
    target: Float64Array.from(b.target),
    achieved: Float64Array.from(b.achieved),
  };
}

/**
 * Every counter of `sim` now; `numa` adds NUMA balancing's own and `tc` the tier-ratio
 * machinery's (neither is the engine's).
 */
export function takeSnapshot(
  sim: Simulation,
  numa: NumaTiering | null = null,
  tc: TierControl | null = null,
): Snapshot {
  const host = sim.host;
  const cg = host.cgroups;
  return {
    atNs: sim.now,
    sinceNs: 0,
    vms: sim.tasks.map((t) => takeVmCounters(sim, t)),
    kswapdNs: Float64Array.from(sim.kswapdNs),
    kswapdWakeups: Float64Array.from(host.kswapdWakeups),
    sideHits: Float64Array.from(sim.sideHits),
    sideMisses: Float64Array.from(sim.sideMisses),
    freePages: Float64Array.from(host.frames.freeCount),
    vmstat: Float64Array.from(host.vmstat.counts),
    vmstatMemcgOnly: Float64Array.from(host.vmstat.memcgOnly),
    memcgEvents: Float64Array.from(cg.events),
    memcgUsage: Float64Array.from(cg.usage),
    memcgNodePages: Float64Array.from(cg.nodePages),
    swapUsed: host.swapUsed,
    promotion:
      numa === null
        ? null
        : {
            notHot: numa.stats.notHot,
            rateLimited: numa.stats.rateLimited,
            promoteFreeSpace: numa.stats.promoteFreeSpace,
            failedWatermark: numa.stats.failedWatermark,
            refusedByQuota: numa.stats.refusedByQuota,
            candidates: Float64Array.from(numa.o.states, (st) => st.pgpromote_candidate),
          },
    ratio: tc === null ? null : takeRatioCounters(tc, sim.host.spaces.length),
  };
}

function sub(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b[i] - a[i];
  return out;
}

/** The counters of `b` since `a` (a VM's two snapshots); gauges are `b`'s. */
export function diffVm(a: VmCounters, b: VmCounters): VmCounters {
  return {
    clockNs: b.clockNs,
    accesses: b.accesses - a.accesses,
    reads: b.reads - a.reads,
    writes: b.writes - a.writes,
    latencyNs: b.latencyNs - a.latencyNs,
    memoryNs: b.memoryNs - a.memoryNs,
    kernelNs: b.kernelNs - a.kernelNs,
    computeNs: b.computeNs - a.computeNs,
    idealNs: b.idealNs - a.idealNs,
    hitsByNode: sub(a.hitsByNode, b.hitsByNode),
    kernelNsBy: sub(a.kernelNsBy, b.kernelNsBy),
    highThrottleNs: b.highThrottleNs - a.highThrottleNs,
    touchedPages: b.touchedPages - a.touchedPages,
    migrations: sub(a.migrations, b.migrations),
    promoted: b.promoted - a.promoted,
    demoted: b.demoted - a.demoted,
    pingpong: b.pingpong - a.pingpong,
    demotionCycles: b.demotionCycles - a.demotionCycles,
    rssByNode: Float64Array.from(b.rssByNode),
  };
}

/**
 * What happened between snapshot `a` and the later `b` of the same run: counters subtracted,
 * gauges `b`'s, `sinceNs` = a.atNs.
 */
export function diff(a: Snapshot, b: Snapshot): Snapshot {
  if (a.vms.length !== b.vms.length || a.vmstat.length !== b.vmstat.length)
    throw new Error('diff: snapshots of different runs');
  const pa = a.promotion;
  const pb = b.promotion;
  return {
    atNs: b.atNs,
    sinceNs: a.atNs,
    vms: b.vms.map((v, i) => diffVm(a.vms[i], v)),
    kswapdNs: sub(a.kswapdNs, b.kswapdNs),
    kswapdWakeups: sub(a.kswapdWakeups, b.kswapdWakeups),
    sideHits: sub(a.sideHits, b.sideHits),
    sideMisses: sub(a.sideMisses, b.sideMisses),
    freePages: Float64Array.from(b.freePages),
    vmstat: sub(a.vmstat, b.vmstat),
    vmstatMemcgOnly: sub(a.vmstatMemcgOnly, b.vmstatMemcgOnly),
    memcgEvents: sub(a.memcgEvents, b.memcgEvents),
    memcgUsage: Float64Array.from(b.memcgUsage),
    memcgNodePages: Float64Array.from(b.memcgNodePages),
    swapUsed: b.swapUsed,
    promotion:
      pa === null || pb === null
        ? pb
        : {
            notHot: pb.notHot - pa.notHot,
            rateLimited: pb.rateLimited - pa.rateLimited,
            promoteFreeSpace: pb.promoteFreeSpace - pa.promoteFreeSpace,
            failedWatermark: pb.failedWatermark - pa.failedWatermark,
            refusedByQuota: pb.refusedByQuota - pa.refusedByQuota,
            candidates: sub(pa.candidates, pb.candidates),
          },
    ratio: a.ratio === null || b.ratio === null ? b.ratio : diffRatio(a.ratio, b.ratio),
  };
}

/**
 * /proc/vmstat's `item` in `s`: the sum over every (memcg, node), less the memcg-only events,
 * in Vmstat.global()'s order.
 */
export function vmstatGlobal(s: Snapshot, item: number): number {
  return globalEvent(s.vmstat, s.vmstatMemcgOnly, item);
}

/** memory.events `event` of memcg `c` in `s`. */
export function memcgEvent(s: Snapshot, c: number, event: (typeof MEMORY_EVENTS)[number]): number {
  return s.memcgEvents[c * MEMORY_EVENTS.length + MEMORY_EVENTS.indexOf(event)];
}

/** Accesses of every VM in `s`. */
export function totalAccesses(s: Snapshot): number {
  let n = 0;
  for (const v of s.vms) n += v.accesses;
  return n;
}

/**
 * A VM's busy time (memory + kernel + compute), ns. Over a window, take busyNs(end) −
 * busyNs(start), not busyNs(diff): the sum of three differences rounds differently from the
 * difference of two sums, and the summary has always reported the latter.
 */
export function busyNs(v: VmCounters): number {
  return v.memoryNs + v.kernelNs + v.computeNs;
}
