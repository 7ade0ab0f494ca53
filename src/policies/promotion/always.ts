import { rateLimited } from './rate-limit.js';
import { z } from 'zod';
import type { PromotionFilter, PromotionFilterConfig, PromotionFilterModule } from './types.js';

/**
 * Every hint fault on a slow-tier page promotes it (the 5.18 tiering mode before the hot
 * threshold; what Rik van Riel warned of for CPU-less nodes, idea S20: all accesses there are
 * remote, so every touched page is pulled up, occasional or frequent alike).
 */
export function alwaysFilter(config: PromotionFilterConfig): PromotionFilter {
  return {
    name: 'always',
    recordsScanTime: false,
    decide: (f) => rateLimited(config, f),
  };
}

export const always: PromotionFilterModule = {
  id: 'always',
  summary: 'every hint fault on a slow-tier page promotes it, within the rate limit (5.18)',
  params: z.strictObject({}),
  create: (_p, ctx) => alwaysFilter(ctx),
};
