import type { Daemon } from '../../engine/simulation.js';
import type { RatioContext, RatioStrategy } from './types.js';

/**
 * Strategy A (idea S9): the charge of a fast page that would break the group's quota fails,
 * and the allocator moves on to the next node of its zonelist — the slow tier. Implemented on
 * host.nodeAllowed, which the allocator asks for every candidate node in its fast path, its
 * slow path and after direct reclaim. Nothing is ever migrated to hold the ratio; a lowered
 * ratio is reached only as the group's memory turns over.
 */
export class ChargeRetry implements RatioStrategy {
  readonly name = 'charge-retry' as const;

  install(ctx: RatioContext): void {
    const { host, ratio } = ctx;
    const toptier = host.toptier;
    const exempt = ratio.exempt;
    host.nodeAllowed = (memcg, node) => toptier[node] === 0 || exempt[memcg] !== 0 || ratio.mayAddFast(memcg);
  }

  daemons(): Daemon[] {
    return [];
  }
}
