import { z } from 'zod';
import { NOT_HOT, type PromotionFilterModule } from './types.js';

/**
 * No promotion: every hint fault on a slow-tier page leaves it where it is. The scanner still
 * runs and the faults still cost what they cost, so this measures the price of NUMA balancing
 * with nothing gained, and callers never need a "no filter" case.
 */
export const none: PromotionFilterModule = {
  id: 'none',
  summary: 'never promotes: hint faults on slow-tier pages are counted and left alone',
  params: z.strictObject({}),
  create: () => ({ name: 'none', recordsScanTime: false, decide: () => NOT_HOT }),
};
