import { z } from 'zod';
import type { RatioContext, RatioStrategy, RatioStrategyModule } from './types.js';

/**
 * Strategy A (idea S9): the charge of a fast page that would break the group's quota fails,
 * and the allocator moves on to the next node of its zonelist — the slow tier. Implemented on
 * the nodeAllowed hook, which the allocator asks for every candidate node in its fast path, its
 * slow path and after direct reclaim. Nothing is ever migrated to hold the ratio; a lowered
 * ratio is reached only as the group's memory turns over.
 */
function create(_params: Record<string, never>, ctx: RatioContext): RatioStrategy {
  const { host, ratio } = ctx;
  const toptier = host.toptier;
  const exempt = ratio.exempt;
  return {
    name: chargeRetry.id,
    hooks: {
      nodeAllowed: (memcg, node) => toptier[node] === 0 || exempt[memcg] !== 0 || ratio.mayAddFast(memcg),
    },
    daemons: () => [],
  };
}

export const chargeRetry: RatioStrategyModule<Record<string, never>> = {
  id: 'charge-retry',
  summary: 'refuse a fast node at allocation when the group has no room: the page spills to slow memory',
  params: z.strictObject({}),
  contract: {
    meanError: 0.002,
    maxError: 0.005,
    why: 'exact at every fault, up to the rounding of one page',
  },
  create,
};
