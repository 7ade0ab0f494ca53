import type { z } from 'zod';
import type { Daemon } from '../../engine/simulation.js';
import type { HostHookSet } from '../../host/hooks.js';
import type { AddressSpace } from '../../host/address-space.js';
import type { Host } from '../../host/host.js';
import type { Mempolicy } from '../../host/mempolicy.js';
import type { TierRatio } from '../../host/tier-ratio.js';
import type { Rng } from '../../util/rng.js';
import type { TenantHints } from '../madvise.js';
import type { PolicyModule } from '../registry.js';

/**
 * Ratio enforcement (ideas S6, S9–S12): one strategy per file, each a PolicyModule of the ratio
 * registry (registry.ts). A strategy declares the host hooks it needs as data (the allocator's
 * nodeAllowed, a VM's placement), composed once with the others by host/hooks.ts, and may bring
 * periodic actors; the promotion rule (exchange or refuse) is shared by all.
 */

/** A strategy's id (the registry's ids: RATIO_STRATEGIES in index.ts). */
export type RatioStrategyName = string;

/** What a NUMA-balancing promotion of a group at its quota does. */
export const PROMOTION_RULES = ['exchange', 'refuse'] as const;
export type PromotionRule = (typeof PROMOTION_RULES)[number];

/** Plain data: a resolved scenario can be sent to a worker. */
export interface RatioOptions {
  strategy: RatioStrategyName;
  promotion: PromotionRule;
  /** Samples before this time are left out of the target-vs-achieved error. */
  warmupNs: number;
  /** The strategy's own block, `ratio.<strategy>`, as its module's params schema accepted it. */
  params: Record<string, unknown>;
}

export const RATIO_DEFAULTS = {
  strategy: 'charge-retry' as RatioStrategyName,
  promotion: 'exchange' as PromotionRule,
  /** Share of the run left out of the error statistics when warmup_ms is not given. */
  warmupFraction: 0.1,
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
  /** The host hooks the strategy needs (level "ratio"); composed once with the others. */
  readonly hooks: HostHookSet;
  /** Periodic actors the strategy needs (none for allocation-time strategies). */
  daemons(): Daemon[];
  /** Told of the tenant hints, when the scenario has any (after create). */
  useHints?(hints: TenantHints): void;
  /** The strategy's own counters for summary.json, if it keeps any. */
  summary?(): Record<string, number>;
}

/**
 * What the ratio conformance suite (test/ratio-conformance.test.ts) holds a strategy to on its
 * simple scenario: |achieved − target| after the warm-up, mean and max, with the strategy's
 * parameters for that run; or why the check does not apply.
 */
export type RatioContract =
  { params?: Record<string, unknown>; meanError: number; maxError: number; why: string } | { skip: string };

/** A ratio strategy as a policy module: its parameters are the scenario's `ratio.<id>` block. */
export interface RatioStrategyModule<
  P extends Record<string, unknown> = Record<string, unknown>,
> extends PolicyModule<P, RatioContext, RatioStrategy> {
  readonly params: z.ZodObject;
  readonly contract: RatioContract;
}

/** Charges `ns` to the live VMs of `memcg`'s subtree, in equal parts (memory.high reclaim is paid by the group's tasks). */
export function chargeGroup(ctx: RatioContext, memcg: number, ns: number): void {
  if (ns <= 0) return;
  const members = ctx.vms.filter((v) => v.as.alive && ctx.host.cgroups.isDescendant(v.as.memcg, memcg));
  if (members.length === 0) return;
  for (const v of members) ctx.chargeTask(v.as.id, ns / members.length);
  ctx.stats.chargedNs += ns;
}
