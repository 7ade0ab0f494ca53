import { z } from 'zod';
import type { DemotionPolicyModule } from './types.js';

/**
 * No demotion: reclaim never migrates, it swaps or drops, whatever demotion_enabled says — a
 * host without a slower tier to demote to. A real module, so that reclaim never asks whether
 * there is a policy, only what it allows.
 */
export const none: DemotionPolicyModule = {
  id: 'none',
  summary: 'reclaim never demotes: cold pages are swapped or dropped',
  params: z.strictObject({}),
  create: () => ({
    name: 'none',
    canDemote: () => false,
    targets: () => [],
    batchTargets: () => 0,
  }),
};
