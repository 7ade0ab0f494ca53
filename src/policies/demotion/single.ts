import type { HostTopology } from '../../host/host-topology.js';
import { z } from 'zod';
import {
  checkDemotionPaths,
  demotionPathsParam,
  densePaths,
  type DemotionPolicy,
  type DemotionPolicyConfig,
  type DemotionPolicyModule,
} from './types.js';

/**
 * "Exactly one node to migrate to" (idea S17, the simplest proposal of the 2019 session): each
 * node demotes to one fixed target and nowhere else; if that node is full, reclaim swaps or
 * drops. The target is the configured one, else the first of the kernel's preferred targets
 * (the nearest node of the next slower tier).
 */
export function singleDemotion(topo: HostTopology, config: DemotionPolicyConfig): DemotionPolicy {
  const target = topo.nodes.map((n, i) => {
    const configured = config.paths?.get(i);
    if (configured !== undefined) return configured.length > 0 ? configured[0] : -1;
    return n.demotionPreferred.length > 0 ? n.demotionPreferred[0] : -1;
  });
  const targets = target.map((t) => (t >= 0 ? [t] : []));
  return {
    name: 'single',
    canDemote: (node) => target[node] >= 0,
    targets: (node) => targets[node],
    batchTargets(node, _rng, out) {
      if (target[node] < 0) return 0;
      out[0] = target[node];
      return 1;
    },
  };
}

const params = z.strictObject({ demotion_paths: demotionPathsParam });

export const single: DemotionPolicyModule<z.infer<typeof params>> = {
  id: 'single',
  summary: 'exactly one target per node (demotion_paths, else the nearest next-tier node), nothing else',
  params,
  check(p, ctx) {
    const paths = p.demotion_paths ?? {};
    const err = checkDemotionPaths(paths, ctx.nodeIds);
    if (err !== null) return err;
    for (const [key, targets] of Object.entries(paths)) {
      if (targets.length > 1)
        return `tiering.demotion_paths.${key}: demotion_policy single takes exactly one target per node, got ${targets.length}`;
    }
    return null;
  },
  create: (p, ctx) => singleDemotion(ctx.topo, { paths: densePaths(p.demotion_paths, ctx.dense) }),
};
