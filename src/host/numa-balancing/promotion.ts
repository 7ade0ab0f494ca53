/**
 * Memory-tiering promotion decisions of NUMA balancing (kernel.numa_balancing bit 1): the hot
 * threshold, its automatic adjustment, the per-node promotion rate limit and the free-space
 * bypass; plus the watermark check a promotion must pass before migrating.
 *
 * Kernel source: torvalds/linux kernel/sched/fair.c should_numa_migrate_memory() (tiering
 * branch), pgdat_free_space_enough(), numa_hint_fault_latency(), numa_promotion_rate_limit(),
 * numa_promotion_adjust_threshold(); kernel/sched/core.c reset_memory_tiering();
 * mm/migrate.c migrate_balanced_pgdat(); mm/page_alloc.c __zone_watermark_ok().
 *
 * Times are jiffies_to_msecs() values: integer ms kept as 32-bit unsigned, so `now - start`
 * wraps as in the kernel. pgpromote_candidate is modelled as an exact counter (the kernel reads
 * a per-CPU-batched vmstat, which can lag by a few pages per CPU). One zone per node.
 * Nothing here allocates: these run on every slow-tier hint fault.
 */
import { MSEC_PER_SEC, NUMA_MIGRATION_ADJUST_STEPS, PAGE_SHIFT } from './constants.js';
import { numaHintFaultLatency } from './cpupid.js';

/** Per destination node (pglist_data) promotion state, zero at boot. */
export interface NumaBalancingNodeState {
  /** Start (ms) of the current rate-limit window. */
  nbp_rl_start: number;
  /** pgpromote_candidate at the start of the window. */
  nbp_rl_nr_cand: number;
  /** Adjusted hot threshold (ms); 0 = use the hot_threshold tunable. */
  nbp_threshold: number;
  /** Start (ms) of the current threshold-adjustment period. */
  nbp_th_start: number;
  /** pgpromote_candidate at the start of the adjustment period. */
  nbp_th_nr_cand: number;
  /** Node counter pgpromote_candidate: hot pages that reached the rate limiter. */
  pgpromote_candidate: number;
  /** Node counter pgpromote_candidate_nrl (≈6.17+): pages promoted by the free-space bypass. */
  pgpromote_candidate_nrl: number;
}

export function newNumaBalancingNodeState(): NumaBalancingNodeState {
  return {
    nbp_rl_start: 0,
    nbp_rl_nr_cand: 0,
    nbp_threshold: 0,
    nbp_th_start: 0,
    nbp_th_nr_cand: 0,
    pgpromote_candidate: 0,
    pgpromote_candidate_nrl: 0,
  };
}

/**
 * reset_memory_tiering(): run for every node when kernel.numa_balancing gains the
 * MEMORY_TIERING bit (0→1). Restarts threshold adjustment; leaves the rate-limit window alone.
 */
export function resetMemoryTiering(state: NumaBalancingNodeState, nowMs: number): void {
  state.nbp_threshold = 0;
  state.nbp_th_nr_cand = state.pgpromote_candidate;
  state.nbp_th_start = nowMs >>> 0;
}

/**
 * numa_promotion_rate_limit(): counts `nr` candidate pages (before the check), opens a new window
 * lazily at the first candidate more than 1000 ms after the window start (its baseline includes
 * that candidate), and returns true (limited, do not promote) once the pages counted since the
 * baseline reach `rateLimitPages`. With nr = 1, exactly rateLimitPages candidates pass per window.
 */
export function numaPromotionRateLimit(
  state: NumaBalancingNodeState,
  nowMs: number,
  rateLimitPages: number,
  nr: number,
): boolean {
  const now = nowMs >>> 0;
  state.pgpromote_candidate += nr;
  const nrCand = state.pgpromote_candidate;
  if ((now - state.nbp_rl_start) >>> 0 > MSEC_PER_SEC) {
    state.nbp_rl_start = now;
    state.nbp_rl_nr_cand = nrCand;
  }
  return nrCand - state.nbp_rl_nr_cand >= rateLimitPages;
}

/**
 * numa_promotion_adjust_threshold(): once per `scanPeriodMaxMs` (strictly more than that since
 * the last adjustment), compare the candidates counted in the period with the budget
 * rate_limit × period: above 110 % lower the threshold by unit_th = ⌊2·ref_th/16⌋ (not below
 * unit_th), below 90 % raise it by unit_th (not above 2·ref_th). Arithmetic is 32-bit unsigned as
 * in the kernel (a threshold left below unit_th by a changed ref_th wraps on the way down).
 */
export function numaPromotionAdjustThreshold(
  state: NumaBalancingNodeState,
  nowMs: number,
  rateLimitPages: number,
  refThMs: number,
  scanPeriodMaxMs: number,
): void {
  const now = nowMs >>> 0;
  if ((now - state.nbp_th_start) >>> 0 <= scanPeriodMaxMs >>> 0) return;
  state.nbp_th_start = now;
  const refCand = Math.floor((rateLimitPages * scanPeriodMaxMs) / MSEC_PER_SEC);
  const nrCand = state.pgpromote_candidate;
  const diffCand = nrCand - state.nbp_th_nr_cand;
  const unitTh = Math.floor(((refThMs * 2) >>> 0) / NUMA_MIGRATION_ADJUST_STEPS);
  let th = state.nbp_threshold || refThMs;
  if (diffCand > Math.floor((refCand * 11) / 10)) th = Math.max((th - unitTh) >>> 0, unitTh);
  else if (diffCand < Math.floor((refCand * 9) / 10)) th = Math.min((th + unitTh) >>> 0, (refThMs * 2) >>> 0);
  state.nbp_th_nr_cand = nrCand;
  state.nbp_threshold = th;
}

/** 1 GiB in pages: the floor of pgdat_free_space_enough()'s margin. */
export const FREE_SPACE_ENOUGH_MIN_PAGES = 2 ** (30 - PAGE_SHIFT);

/**
 * __zone_watermark_ok() for an order-0 request without ALLOC_HIGH/ALLOC_RESERVES: fails when
 * free <= mark + lowmem_reserve, so the zone is OK only when free is strictly above. `unusable`
 * is what the request may not use (highatomic reserve, CMA pages without ALLOC_CMA).
 */
export function zoneWatermarkOk(freePages: number, mark: number, lowmemReserve = 0, unusable = 0): boolean {
  return freePages - unusable > mark + lowmemReserve;
}

/** The margin above WMARK_PROMO: max(1 GiB, present/16) in pages. */
export function freeSpaceEnoughMark(presentPages: number): number {
  return Math.max(FREE_SPACE_ENOUGH_MIN_PAGES, Math.floor(presentPages / 16));
}

/**
 * pgdat_free_space_enough() for a one-zone node: free > WMARK_PROMO + max(262144,
 * present >> 4) (+ lowmem reserve). When true, a hot-or-not slow-tier page is promoted without
 * threshold or rate limit.
 */
export function pgdatFreeSpaceEnough(
  freePages: number,
  promoWmark: number,
  presentPages: number,
  lowmemReserve = 0,
): boolean {
  return zoneWatermarkOk(freePages, promoWmark + freeSpaceEnoughMark(presentPages), lowmemReserve);
}

/**
 * migrate_balanced_pgdat() for a one-zone node: the destination can take `nr` migrated pages
 * without waking kswapd, i.e. free > WMARK_HIGH + nr. When false, a misplaced-page migration
 * (promotion) fails with -EAGAIN (and in tiering mode kswapd is woken on the destination).
 */
export function migrateBalancedPgdat(
  freePages: number,
  highWmark: number,
  nr: number,
  lowmemReserve = 0,
): boolean {
  return zoneWatermarkOk(freePages, highWmark + nr, lowmemReserve);
}

/** Outcome of the tiering branch of should_numa_migrate_memory(). */
export const PromotionDecision = {
  /** Destination has plenty of free memory: promote, skipping threshold and rate limit. */
  PROMOTE_FREE_SPACE: 0,
  /** Hot (latency below threshold) and within the rate limit: promote. */
  PROMOTE: 1,
  /** Latency >= threshold: not hot, do not promote. */
  NOT_HOT: 2,
  /** Hot, but the node's candidate budget for this window is spent. */
  RATE_LIMITED: 3,
  /** The faulting CPU's node has no memory (cannot migrate to a memoryless node). */
  DST_NO_MEMORY: 4,
} as const;
export type PromotionDecision = (typeof PromotionDecision)[keyof typeof PromotionDecision];

/** True for the decisions that ask for a migration. */
export function isPromote(d: PromotionDecision): boolean {
  return d === PromotionDecision.PROMOTE || d === PromotionDecision.PROMOTE_FREE_SPACE;
}

/**
 * Inputs of one slow-tier hint fault in tiering mode. Meant to be one reused object per engine,
 * so the hot path does not allocate.
 */
export interface TieringFaultInput {
  /** jiffies_to_msecs() at the fault. */
  nowMs: number;
  /** The access time stored in the page when it was scanned (raw ms or stored field). */
  lastScanMs: number;
  /** PAGE_ACCESS_TIME_MASK of the cpupid layout in use. */
  accessTimeMask: number;
  /** Pages in the folio (1, or 512 for a PMD THP). */
  nr: number;
  /** Destination = the faulting CPU's node. */
  dstHasMemory: boolean;
  dstFreePages: number;
  dstPromoWmark: number;
  dstPresentPages: number;
  /** hot_threshold tunable (ms). */
  hotThresholdMs: number;
  /** promote_rate_limit tunable converted to pages/s (rateLimitPages()). */
  rateLimitPages: number;
  /** scan_period_max tunable (ms). */
  scanPeriodMaxMs: number;
  /**
   * Whether the threshold follows the rate limit (numa_promotion_adjust_threshold(), 6.0+).
   * False keeps it at the tunable, as the hot-page-selection series did before its third patch.
   * Default true.
   */
  adjustThreshold?: boolean;
}

/**
 * The memory-tiering branch of should_numa_migrate_memory() for a fault on a slow-tier
 * (non-toptier) page, `state` being the destination node's. Side effects as in the kernel:
 * the free-space bypass resets nbp_threshold and counts pgpromote_candidate_nrl; otherwise the
 * threshold may be adjusted, and a hot page is counted in pgpromote_candidate by the rate
 * limiter. Except after PROMOTE_FREE_SPACE (and DST_NO_MEMORY), the kernel has replaced the
 * page's stored access time with the fault time: the caller must store
 * accessTimeToCpupidField(nowMs) in the page.
 */
export function shouldNumaMigrateMemoryTiering(
  state: NumaBalancingNodeState,
  input: TieringFaultInput,
): PromotionDecision {
  if (!input.dstHasMemory) return PromotionDecision.DST_NO_MEMORY;
  if (pgdatFreeSpaceEnough(input.dstFreePages, input.dstPromoWmark, input.dstPresentPages)) {
    // "workload changed, reset hot threshold"
    state.nbp_threshold = 0;
    state.pgpromote_candidate_nrl += input.nr;
    return PromotionDecision.PROMOTE_FREE_SPACE;
  }
  const defTh = input.hotThresholdMs;
  if (input.adjustThreshold !== false)
    numaPromotionAdjustThreshold(state, input.nowMs, input.rateLimitPages, defTh, input.scanPeriodMaxMs);
  const th = state.nbp_threshold || defTh;
  const latency = numaHintFaultLatency(input.lastScanMs, input.nowMs, input.accessTimeMask);
  if (latency >= th) return PromotionDecision.NOT_HOT;
  return numaPromotionRateLimit(state, input.nowMs, input.rateLimitPages, input.nr)
    ? PromotionDecision.RATE_LIMITED
    : PromotionDecision.PROMOTE;
}
