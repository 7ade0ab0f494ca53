import type { Daemon } from '../../engine/simulation.js';
import type { Placement, PlacementCandidates } from '../../host/address-space.js';
import { tierOrdered, type TierRatio } from '../../host/tier-ratio.js';
import type { Rng } from '../../util/rng.js';
import type { RatioContext, RatioStrategy } from './types.js';

/**
 * Strategy C (idea S11): each fault picks its tier at random, biased by the ratio — with
 * probability r the VM's candidate nodes are tried fast tier first, else slow tier first (order
 * within a tier, and the set of nodes, are the memory policy's and the cpuset's). The ratio is
 * read at every fault, so a new ratio applies to the next fault. Nothing is migrated, and the
 * quota is held only in expectation: the share of a group of N pages deviates by about
 * √(r(1−r)/N).
 */
export class WeightedRandom implements RatioStrategy {
  readonly name = 'weighted-random' as const;

  install(ctx: RatioContext): void {
    for (const vm of ctx.vms) {
      if (ctx.ratio.exempt[vm.as.memcg] !== 0) continue;
      vm.as.placement = new WeightedRandomPlacement(
        vm.as.placement,
        vm.as.memcg,
        ctx.ratio,
        ctx.host.toptier,
        ctx.rng.fork(`vm:${vm.as.name}`),
      );
    }
  }

  daemons(): Daemon[] {
    return [];
  }
}

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
