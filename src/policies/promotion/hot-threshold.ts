import { z } from 'zod';
import { NUMA_BALANCING_MEMORY_TIERING } from '../../host/numa-balancing/constants.js';
import {
  PromotionDecision,
  shouldNumaMigrateMemoryTiering,
  type TieringFaultInput,
} from '../../host/numa-balancing/promotion.js';
import {
  ACCESS_TIME_MASK,
  hostClockMs,
  NOT_HOT,
  PROMOTE,
  PROMOTE_FREE_SPACE,
  RATE_LIMITED,
  type PromotionFilter,
  type PromotionFilterConfig,
  type PromotionFilterModule,
} from './types.js';

/**
 * The kernel's memory-tiering rule (numa_balancing = 2, 6.0+): promote without further checks
 * while the destination is far above its promo watermark; otherwise only a page whose hint
 * fault came sooner than the hot threshold after the scanner marked it, within the promotion
 * rate limit, with the threshold adjusted every scan_period_max toward the rate limit.
 */
export function hotThresholdFilter(config: PromotionFilterConfig): PromotionFilter {
  const input: TieringFaultInput = {
    nowMs: 0,
    lastScanMs: 0,
    accessTimeMask: ACCESS_TIME_MASK,
    nr: 1,
    dstHasMemory: true,
    dstFreePages: 0,
    dstPromoWmark: 0,
    dstPresentPages: 0,
    hotThresholdMs: config.hotThresholdMs,
    rateLimitPages: config.rateLimitPages,
    scanPeriodMaxMs: config.scanPeriodMaxMs,
    adjustThreshold: config.adjustThreshold !== false,
  };
  return {
    name: 'hot-threshold',
    recordsScanTime: true,
    decide(f) {
      const host = f.host;
      const clock = hostClockMs(config, f.nowMs);
      input.nowMs = clock;
      input.lastScanMs = host.frames.stampOf(f.p);
      input.dstFreePages = host.frames.freeCount[f.dst];
      input.dstPromoWmark = host.wmarkPromo[f.dst];
      input.dstPresentPages = host.frames.nodePages(f.dst);
      const d = shouldNumaMigrateMemoryTiering(config.states[f.dst], input);
      if (d === PromotionDecision.PROMOTE_FREE_SPACE) return PROMOTE_FREE_SPACE;
      // numa_hint_fault_latency() leaves the fault time in the page.
      host.frames.setStamp(f.p, clock & ACCESS_TIME_MASK);
      if (d === PromotionDecision.PROMOTE) return PROMOTE;
      return d === PromotionDecision.RATE_LIMITED ? RATE_LIMITED : NOT_HOT;
    },
  };
}

const params = z.strictObject({
  hot_threshold_adjust: z
    .boolean()
    .optional()
    .describe(
      'hot-threshold only: adjust the threshold toward the promotion rate limit, as 6.0+ does (default true); false keeps it at hot_threshold_ms',
    ),
});

export const hotThreshold: PromotionFilterModule<z.infer<typeof params>> = {
  id: 'hot-threshold',
  summary:
    "the kernel's memory-tiering rule (6.0+): promote on a hint-fault latency below the hot threshold, within the rate limit",
  params,
  check: (_p, ctx) =>
    (ctx.numaBalancing & NUMA_BALANCING_MEMORY_TIERING) === 0
      ? `tiering.promotion_filter: hot-threshold needs kernel.numa_balancing 2 or 3 (memory tiering), got ${ctx.numaBalancing}`
      : null,
  create: (p, ctx) => hotThresholdFilter({ ...ctx, adjustThreshold: p.hot_threshold_adjust ?? true }),
};
