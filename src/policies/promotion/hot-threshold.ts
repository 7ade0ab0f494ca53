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
