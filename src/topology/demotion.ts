import type { MemoryTier } from './memory-tiers.js';
import { formatNodelist } from './nodemask.js';
import { type Topology, nodeDistance } from './types.js';
import { NUMA_NO_NODE, type NodeLoad, findNextBestNode } from './zonelist.js';

/** Demotion targets per node, as establish_demotion_targets() in mm/memory-tiers.c computes them. */

export interface DemotionTargets {
  /** node_demotion[node].preferred: next_demotion_node() picks one of these at random. */
  readonly preferred: readonly number[];
  /** lower_tier_mask of the node's tier: every node in a strictly slower tier. */
  readonly fallback: readonly number[];
}

/**
 * For each node that is not in the last tier, candidates are the nodes of the NEXT slower tier
 * only; they are taken in find_next_best_node() order, and the first pick plus every following
 * pick at the same raw node_distance() form the preferred set (the first different distance
 * stops the walk). The fallback mask is the union of all strictly slower tiers.
 */
export function establishDemotionTargets(
  topo: Topology,
  tiers: readonly MemoryTier[],
  nodeLoad?: NodeLoad,
): Map<number, DemotionTargets> {
  const tierIndex = new Map<number, number>();
  tiers.forEach((t, i) => t.nodes.forEach((n) => tierIndex.set(n, i)));

  // lower_tier_mask: N_MEMORY minus this tier and every faster one.
  const lowerTierMask: number[][] = [];
  const remaining = new Set(topo.nodes.map((n) => n.id));
  for (const t of tiers) {
    for (const n of t.nodes) remaining.delete(n);
    lowerTierMask.push([...remaining].sort((a, b) => a - b));
  }

  const out = new Map<number, DemotionTargets>();
  for (const node of topo.nodes) {
    const ti = tierIndex.get(node.id);
    if (ti === undefined) throw new RangeError(`node ${node.id} has no memory tier`);
    const preferred: number[] = [];
    if (ti < tiers.length - 1) {
      const next = new Set(tiers[ti + 1].nodes);
      // The "used" mask starts as every memory node outside the next tier, the source included.
      const used = new Set(topo.nodes.map((n) => n.id).filter((id) => !next.has(id)));
      let bestDistance = -1;
      for (;;) {
        const target = findNextBestNode(topo, node.id, used, nodeLoad);
        if (target === NUMA_NO_NODE) break;
        const d = nodeDistance(topo, node.id, target);
        if (bestDistance !== -1 && d !== bestDistance) break;
        bestDistance = d;
        preferred.push(target);
      }
    }
    out.set(node.id, { preferred: preferred.sort((a, b) => a - b), fallback: lowerTierMask[ti] });
  }
  return out;
}

/** dump_demotion_targets(): the pr_info lines the kernel logs after recomputing the targets. */
export function dumpDemotionTargets(
  topo: Topology,
  demotion: ReadonlyMap<number, DemotionTargets>,
): string[] {
  return topo.nodes.map((n) => {
    const t = demotion.get(n.id);
    if (!t || t.preferred.length === 0) return `Demotion targets for Node ${n.id}: null`;
    return `Demotion targets for Node ${n.id}: preferred: ${formatNodelist(t.preferred)}, fallback: ${formatNodelist(t.fallback)}`;
  });
}
