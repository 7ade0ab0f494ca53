import type { Daemon } from '../../engine/simulation.js';
import type { AddressSpace } from '../../host/address-space.js';
import type { Host } from '../../host/host.js';
import type { Mempolicy } from '../../host/mempolicy.js';
import type { TierRatio } from '../../host/tier-ratio.js';
import type { Rng } from '../../util/rng.js';

/**
 * Ratio enforcement (ideas S9–S12): one strategy per file behind one narrow interface. A
 * strategy installs its hooks on the host (the allocator's nodeAllowed, a VM's Placement) and
 * may bring periodic actors; the promotion rule (exchange or refuse) is shared by all.
 */
export const RATIO_STRATEGIES = [
  'charge-retry',
  'rebalance',
  'weighted-random',
  'interleave',
  'userspace',
] as const;
export type RatioStrategyName = (typeof RATIO_STRATEGIES)[number];

/** What a NUMA-balancing promotion of a group at its quota does. */
export const PROMOTION_RULES = ['exchange', 'refuse'] as const;
export type PromotionRule = (typeof PROMOTION_RULES)[number];

export interface RatioOptions {
  strategy: RatioStrategyName;
  promotion: PromotionRule;
  /** Samples before this time are left out of the target-vs-achieved error. */
  warmupNs: number;
  rebalance: { periodNs: number };
  userspace: { periodNs: number; bandwidthMBps: number; scanPages: number };
}

export const RATIO_DEFAULTS = {
  strategy: 'charge-retry' as RatioStrategyName,
  promotion: 'exchange' as PromotionRule,
  /** Share of the run left out of the error statistics when warmup_ms is not given. */
  warmupFraction: 0.1,
  rebalancePeriodMs: 100,
  userspacePeriodMs: 100,
  /** MB here is 2^20 bytes, as in kernel.numa_balancing_promote_rate_limit_MBps. */
  userspaceBandwidthMBps: 512,
  /** Pages of each process the controller looks at per period (1 GiB). */
  userspaceScanPages: 262144,
};

/** A VM as the strategies see it (node numbers are the host's dense indices). */
export interface RatioVm {
  as: AddressSpace;
  policy: Mempolicy;
  /** cpuset.mems, or null for all nodes. */
  cpuset: readonly number[] | null;
}

/** Counters of the enforcement itself, reported in summary.json. */
export class RatioStats {
  /** Promotions that first demoted a colder page of the group (ratio_exchange). */
  exchanges = 0;
  /** Promotions refused at the quota. */
  refusedPromotions = 0;
  /** Periodic enforcement runs (rebalance, userspace). */
  runs = 0;
  /** Time the enforcement cost the VMs' clocks, ns. */
  chargedNs = 0;
}

export interface RatioContext {
  host: Host;
  ratio: TierRatio;
  vms: readonly RatioVm[];
  /** Zonelist of each node (dense), for strategies that build their own placement. */
  zonelists: readonly Int32Array[];
  /** Seeded randomness for this mechanism (never Math.random). */
  rng: Rng;
  options: RatioOptions;
  stats: RatioStats;
  /** Charges `ns` of kernel work to the task of address space `asId` (it pays for its group). */
  chargeTask(asId: number, ns: number): void;
}

export interface RatioStrategy {
  readonly name: RatioStrategyName;
  /** Installs the strategy's hooks on the host and the VMs' placements. */
  install(ctx: RatioContext): void;
  /** Periodic actors the strategy needs (none for allocation-time strategies). */
  daemons(): Daemon[];
}

export type RatioStrategyFactory = () => RatioStrategy;

/** Charges `ns` to the live VMs of `memcg`'s subtree, in equal parts (memory.high reclaim is paid by the group's tasks). */
export function chargeGroup(ctx: RatioContext, memcg: number, ns: number): void {
  if (ns <= 0) return;
  const members = ctx.vms.filter((v) => v.as.alive && ctx.host.cgroups.isDescendant(v.as.memcg, memcg));
  if (members.length === 0) return;
  for (const v of members) ctx.chargeTask(v.as.id, ns / members.length);
  ctx.stats.chargedNs += ns;
}
