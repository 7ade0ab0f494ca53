import { z } from 'zod';
import type { Placement, PlacementCandidates } from '../../host/address-space.js';
import { buildPlacement, restrictToCpuset } from '../../host/mempolicy-placement.js';
import { ratioWeights } from '../../host/tier-ratio.js';
import type { RatioContext, RatioStrategy, RatioStrategyModule, RatioVm } from './types.js';

/**
 * Idea S6: the kernel's weighted interleave (MPOL_WEIGHTED_INTERLEAVE, weighted_interleave_nid)
 * as a percentage-based placement. Each VM with the default (or local) policy interleaves over
 * its nearest fast node and its nearest slow node with weights fast:slow derived from its
 * group's ratio (0.25 → 1:3, reduced by their gcd, each ≤ 255). Upstream the weights are
 * system-wide (/sys/kernel/mm/mempolicy/weighted_interleave/nodeN); here each VM gets its own
 * table. A VM with an explicit policy keeps it (S7: the tenant's placement wins over a
 * preference). The placement is rebuilt when the ratio changes; pages already placed stay.
 */
function create(_params: Record<string, never>, ctx: RatioContext): RatioStrategy {
  const managed = ctx.vms.filter(
    (vm) =>
      (vm.policy.mode === 'default' || vm.policy.mode === 'local') && ctx.ratio.exempt[vm.as.memcg] === 0,
  );
  const slots = new Map<number, RatioPlacementSlot>();
  ctx.ratio.onChange((memcg) => {
    for (const vm of managed)
      if (ctx.host.cgroups.isDescendant(vm.as.memcg, memcg)) slots.get(vm.as.id)?.apply();
  });
  return {
    name: interleave.id,
    hooks: {
      placement: (as, inner) => {
        const vm = managed.find((v) => v.as === as);
        if (vm === undefined) return inner;
        const slot = new RatioPlacementSlot(inner, () => interleavePlacement(ctx, vm));
        slots.set(as.id, slot);
        return slot;
      },
    },
    daemons: () => [],
  };
}

export const interleave: RatioStrategyModule<Record<string, never>> = {
  id: 'interleave',
  summary: "the kernel's weighted interleave over the nearest fast and slow node, weights from the ratio",
  params: z.strictObject({}),
  contract: {
    meanError: 0.005,
    maxError: 0.01,
    why: 'exact over every 4 consecutive pages of the interleave',
  },
  create,
};

/**
 * A VM's placement while the ratio governs it: the interleave built for the current ratio, or
 * the placement below (policy and cpuset) when no ratio applies. Rebuilt on a ratio change, in
 * place, so that the wrappers of the levels below (the hints) stay on top of it.
 */
class RatioPlacementSlot implements Placement {
  private current: Placement;

  constructor(
    private readonly below: Placement,
    private readonly build: () => Placement | null,
  ) {
    this.current = build() ?? below;
  }

  apply(): void {
    this.current = this.build() ?? this.below;
  }

  candidates(ilx: number): PlacementCandidates {
    return this.current.candidates(ilx);
  }
}

/** The weighted-interleave placement of one VM for its group's ratio, or null (no ratio). */
export function interleavePlacement(ctx: RatioContext, vm: RatioVm): Placement | null {
  const { host, ratio } = ctx;
  const g = ratio.governing(vm.as.memcg);
  if (g < 0) return null;
  const [wFast, wSlow] = ratioWeights(ratio.setting(g));
  const allowed = vm.cpuset === null ? null : new Set(vm.cpuset);
  const zl = [...ctx.zonelists[vm.as.cpuNode]].filter((n) => allowed === null || allowed.has(n));
  const fast = zl.find((n) => host.toptier[n] !== 0);
  const slow = zl.find((n) => host.toptier[n] === 0);
  const nodes: number[] = [];
  const weights = new Uint8Array(host.nodes).fill(1);
  if (fast !== undefined && wFast > 0) {
    nodes.push(fast);
    weights[fast] = wFast;
  }
  if (slow !== undefined && wSlow > 0) {
    nodes.push(slow);
    weights[slow] = wSlow;
  }
  if (nodes.length === 0) return null;
  nodes.sort((a, b) => a - b);
  const p = buildPlacement({ mode: 'weighted_interleave', nodes }, vm.as.cpuNode, ctx.zonelists, weights);
  return vm.cpuset === null ? p : restrictToCpuset(p, vm.cpuset);
}
