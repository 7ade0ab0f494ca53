import { numaPromotionRateLimit } from '../../host/numa-balancing/promotion.js';
import {
  hostClockMs,
  PROMOTE,
  RATE_LIMITED,
  type PromotionFault,
  type PromotionFilterConfig,
} from './types.js';

/**
 * The kernel's promotion rate limiter (numa_promotion_rate_limit, per destination node, 1 s
 * windows), applied after a filter said "promote": the page counts as a pgpromote_candidate and
 * passes while the window's budget lasts. Any filter can be combined with it.
 */
export function rateLimited(config: PromotionFilterConfig, f: PromotionFault): number {
  return numaPromotionRateLimit(config.states[f.dst], hostClockMs(config, f.nowMs), config.rateLimitPages, 1)
    ? RATE_LIMITED
    : PROMOTE;
}
