import { z } from 'zod';
import type { Placement, PlacementCandidates } from '../../host/address-space.js';
import { tierOrdered, type TierRatio } from '../../host/tier-ratio.js';
import type { Rng } from '../../util/rng.js';
import type { RatioContext, RatioStrategy, RatioStrategyModule } from './types.js';

/**
 * Strategy C (idea S11): each fault picks its tier at random, biased by the ratio — with
 * probability r the VM's candidate nodes are tried fast tier first, else slow tier first (order
 * within a tier, and the set of nodes, are the memory policy's and the cpuset's). The ratio is
 * read at every fault, so a new ratio applies to the next fault. Nothing is migrated, and the
 * quota is held only in expectation: the share of a group of N pages deviates by about
 * √(r(1−r)/N).
 */
function create(_params: Record<string, never>, ctx: RatioContext): RatioStrategy {
  return {
    name: weightedRandom.id,
    hooks: {
      placement: (as, inner) =>
        ctx.ratio.exempt[as.memcg] !== 0
          ? inner
          : new WeightedRandomPlacement(
              inner,
              as.memcg,
              ctx.ratio,
              ctx.host.toptier,
              ctx.rng.fork(`vm:${as.name}`),
            ),
    },
    daemons: () => [],
  };
}

export const weightedRandom: RatioStrategyModule<Record<string, never>> = {
  id: 'weighted-random',
  summary: 'each fault tries the fast tier first with probability r, else the slow tier first',
  params: z.strictObject({}),
  contract: {
    meanError: 0.03,
    maxError: 0.05,
    why: 'binomial: √(r(1−r)/N) ≈ 0.005 for N = 8192 pages',
  },
  create,
};

/** 2^-32: turns a 32-bit draw into [0, 1). */
const U32 = 1 / 4294967296;

export class WeightedRandomPlacement implements Placement {
  constructor(
    readonly inner: Placement,
    private readonly memcg: number,
    private readonly ratio: TierRatio,
    private readonly toptier: Uint8Array,
    private readonly rng: Rng,
  ) {}

  candidates(ilx: number): PlacementCandidates {
    const c = this.inner.candidates(ilx);
    const g = this.ratio.governing(this.memcg);
    if (g < 0) return c;
    const r = this.ratio.ratio(g) as number;
    return tierOrdered(c, this.toptier, this.rng.nextU32() * U32 < r);
  }
}
