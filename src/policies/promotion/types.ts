import { DEFAULT_CPUPID_LAYOUT } from '../../host/numa-balancing/cpupid.js';
import type { Host } from '../../host/host.js';
import type { PolicyModule } from '../registry.js';
import type { NumaBalancingNodeState } from '../../host/numa-balancing/promotion.js';

/** Verdicts of a promotion filter for one hint fault on a slow-tier page. */
export const PROMOTE = 0;
/** Promote because the destination has plenty of free memory (the kernel's bypass). */
export const PROMOTE_FREE_SPACE = 1;
export const NOT_HOT = 2;
export const RATE_LIMITED = 3;

/** One NUMA hint fault on a page that is not in the top tier, as a filter sees it. */
export interface PromotionFault {
  host: Host;
  nowMs: number;
  /** pfn of the faulting page and its node (dense index). */
  p: number;
  src: number;
  /** Where the page would go: the faulting CPU's node. */
  dst: number;
  /** Address-space id of the faulting task (its "pid"). */
  task: number;
  /** cpu_pid_to_cpupid(dst_cpu, pid) of the faulting task: what the classic rule stores. */
  cpupid: number;
}

/**
 * Decides whether a hint-faulting slow-tier page is promoted (ideas S19–S21). One file per
 * filter; `states` are the per-destination-node kernel states (pgdat nbp_*), shared with the
 * rate limiter so pgpromote_candidate means the same thing for every filter.
 */
export interface PromotionFilter {
  readonly name: string;
  /** Whether the NUMA scanner stores the scan time in the page (tiering access time). */
  readonly recordsScanTime: boolean;
  decide(f: PromotionFault): number;
}

export interface PromotionFilterConfig {
  states: NumaBalancingNodeState[];
  /** promote_rate_limit in pages per second. */
  rateLimitPages: number;
  /** hot_threshold tunable (ms). */
  hotThresholdMs: number;
  /** scan_period_max tunable (ms): the threshold-adjustment period. */
  scanPeriodMaxMs: number;
  /** tiering.hot_threshold_adjust: false freezes the hot threshold at the tunable (default true). */
  adjustThreshold?: boolean;
  /** The latest fault time seen (ms), kept by hostClockMs(); starts at 0. */
  clockMs?: number;
}

/**
 * The host's time for the per-node promotion state: the latest fault time seen. The kernel's
 * jiffies never go back, but each simulated task has its own clock and one may lag another by a
 * slice. The node state's windows (rate limit, threshold adjustment) compare times as unsigned
 * 32-bit differences, where a time a little before a window's start reads as 49 days after it
 * and restarts the window, so every filter passes this time, not the task's.
 */
export function hostClockMs(config: PromotionFilterConfig, nowMs: number): number {
  const c = config.clockMs ?? 0;
  if (nowMs > c) config.clockMs = nowMs;
  return nowMs > c ? nowMs : c;
}

export type PromotionFilterFactory = (config: PromotionFilterConfig) => PromotionFilter;

/** What every promotion filter is built from for one run (the kernel's shared state and tunables). */
export type PromotionContext = Omit<PromotionFilterConfig, 'adjustThreshold' | 'clockMs'>;

/** What a filter's load-time check may look at. */
export interface PromotionCheckContext {
  /** kernel.numa_balancing (bit 2 is memory tiering). */
  numaBalancing: number;
}

/**
 * A promotion filter as a module of the promotion-filter registry; its parameters sit in the
 * scenario's `tiering` block.
 */
export type PromotionFilterModule<P = object> = PolicyModule<
  P,
  PromotionContext,
  PromotionFilter,
  PromotionCheckContext
>;

/**
 * The scan time kept in a page is the kernel's PAGE_ACCESS_TIME_MASK for the simulator's cpupid
 * layout (NR_CPUS_BITS 13): 21 bits of ms, so hint-fault latencies are computed modulo 2^21 ms.
 */
export const ACCESS_TIME_MASK = DEFAULT_CPUPID_LAYOUT.PAGE_ACCESS_TIME_MASK;
