import type { Daemon } from '../../engine/simulation.js';
import type { Placement } from '../../host/address-space.js';
import { buildPlacement, restrictToCpuset } from '../../host/mempolicy-placement.js';
import { ratioWeights } from '../../host/tier-ratio.js';
import type { RatioContext, RatioStrategy, RatioVm } from './types.js';

/**
 * Idea S6: the kernel's weighted interleave (MPOL_WEIGHTED_INTERLEAVE, weighted_interleave_nid)
 * as a percentage-based placement. Each VM with the default (or local) policy interleaves over
 * its nearest fast node and its nearest slow node with weights fast:slow derived from its
 * group's ratio (0.25 → 1:3, reduced by their gcd, each ≤ 255). Upstream the weights are
 * system-wide (/sys/kernel/mm/mempolicy/weighted_interleave/nodeN); here each VM gets its own
 * table. A VM with an explicit policy keeps it (S7: the tenant's placement wins over a
 * preference). The placement is rebuilt when the ratio changes; pages already placed stay.
 */
export class Interleave implements RatioStrategy {
  readonly name = 'interleave' as const;

  install(ctx: RatioContext): void {
    const managed = ctx.vms.filter(
      (vm) =>
        (vm.policy.mode === 'default' || vm.policy.mode === 'local') && ctx.ratio.exempt[vm.as.memcg] === 0,
    );
    const original = new Map(managed.map((vm) => [vm, vm.as.placement]));
    const apply = (vm: RatioVm): void => {
      vm.as.placement = interleavePlacement(ctx, vm) ?? (original.get(vm) as Placement);
    };
    managed.forEach(apply);
    ctx.ratio.onChange((memcg) => {
      for (const vm of managed) if (ctx.host.cgroups.isDescendant(vm.as.memcg, memcg)) apply(vm);
    });
  }

  daemons(): Daemon[] {
    return [];
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
