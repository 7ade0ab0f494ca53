import type { HostTopology } from '../../host/host-topology.js';
import { z } from 'zod';
import type { DemotionPolicy, DemotionPolicyConfig, DemotionPolicyModule } from './types.js';

/**
 * The fallback-list proposal (idea S17): reclaim on a node may migrate a page to any other
 * node, nearest first by SLIT distance — DRAM nodes of other sockets included. As the 2019
 * discussion warned, pages can then circle between nodes without ever being reclaimed; with
 * `history`, a page is never demoted into a node it already left by demotion in the same cycle
 * (since it was faulted in or last promoted), which breaks every cycle.
 */
export function distanceListDemotion(topo: HostTopology, config: DemotionPolicyConfig): DemotionPolicy {
  const order = topo.nodes.map((_, i) => Int32Array.from(topo.nodes[i].zonelist.filter((n) => n !== i)));
  const targets = order.map((o) => [...o]);
  const history = config.history === true;
  const policy: DemotionPolicy = {
    name: history ? 'distance-list+history' : 'distance-list',
    canDemote: (node) => order[node].length > 0,
    targets: (node) => targets[node],
    batchTargets(node, _rng, out) {
      out.set(order[node]);
      return order[node].length;
    },
  };
  if (history) policy.allowPage = (g, n, hasLeft) => !hasLeft(g, n);
  return policy;
}

const params = z.strictObject({
  demotion_history: z
    .boolean()
    .optional()
    .describe('distance-list only: never demote a page into a node it already left in the same cycle'),
});

export const distanceList: DemotionPolicyModule<z.infer<typeof params>> = {
  id: 'distance-list',
  summary: 'any other node, nearest first by SLIT distance; demotion_history breaks the cycles',
  params,
  conformance: {
    skip: {
      'lower-tier-targets':
        'by design it demotes to any other node, DRAM of other sockets included (the proposal of idea S17 it models)',
      acyclic:
        'nodes demote to each other, which is the cycling it exists to show; demotion_history breaks each cycle per page',
    },
  },
  create: (p, ctx) => distanceListDemotion(ctx.topo, { history: p.demotion_history ?? false }),
};
