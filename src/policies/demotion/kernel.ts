import type { HostTopology } from '../../host/host-topology.js';
import { z } from 'zod';
import type { DemotionPolicy, DemotionPolicyModule, RandomSource } from './types.js';

/**
 * Today's kernel rule (mm/vmscan.c demote_folio_list, mm/memory-tiers.c next_demotion_node):
 * a uniformly random node of node_demotion[node].preferred for the whole batch, then any node
 * of the tier's lower_tier_mask (nearest first via the target's zonelist) if that fails.
 */
export function kernelDemotion(topo: HostTopology): DemotionPolicy {
  const preferred = topo.nodes.map((n) => Int32Array.from(n.demotionPreferred));
  const fallback = topo.nodes.map((n) => Int32Array.from(n.demotionFallback));
  const all = topo.nodes.map((n) =>
    n.demotionPreferred.length === 0 ? [] : [...new Set([...n.demotionPreferred, ...n.demotionFallback])],
  );
  return {
    name: 'kernel',
    canDemote: (node) => preferred[node].length > 0,
    targets: (node) => all[node],
    batchTargets(node: number, rng: RandomSource, out: Int32Array): number {
      const pref = preferred[node];
      if (pref.length === 0) return 0;
      const target = pref.length === 1 ? pref[0] : pref[rng.nextInt(pref.length)];
      out[0] = target;
      let k = 1;
      // The fallback allocation walks the target's zonelist restricted to the allowed mask.
      for (const n of topo.nodes[target].zonelist) {
        if (n === target) continue;
        if (fallback[node].includes(n)) out[k++] = n;
      }
      return k;
    },
  };
}

export const kernel: DemotionPolicyModule = {
  id: 'kernel',
  summary: "today's kernel: a random preferred node of the next tier, then the tier's lower_tier_mask",
  params: z.strictObject({}),
  create: (_p, ctx) => kernelDemotion(ctx.topo),
};
