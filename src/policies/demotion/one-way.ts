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
 * Directional paths (idea S17, Dave Hansen's suggestion): the scenario draws a graph of
 * allowed demotions; pages only move along its edges, in the listed order. The graph is refused
 * at load if it has a cycle (see findCycle), so no page can come back by demotion alone.
 */
export function oneWayDemotion(topo: HostTopology, config: DemotionPolicyConfig): DemotionPolicy {
  const paths = topo.nodes.map((_, i) => Int32Array.from(config.paths?.get(i) ?? []));
  const targets = paths.map((p) => [...p]);
  return {
    name: 'one-way',
    canDemote: (node) => paths[node].length > 0,
    targets: (node) => targets[node],
    batchTargets(node, _rng, out) {
      out.set(paths[node]);
      return paths[node].length;
    },
  };
}

/** A cycle in a directed graph given as adjacency lists, as a node list, or null. */
export function findCycle(graph: ReadonlyMap<number, readonly number[]>): number[] | null {
  const state = new Map<number, 1 | 2>(); // 1 on stack, 2 done
  const stack: number[] = [];
  const visit = (n: number): number[] | null => {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      const s = state.get(m);
      if (s === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (s === undefined) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return null;
  };
  for (const n of [...graph.keys()].sort((a, b) => a - b)) {
    if (state.get(n) === undefined) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return null;
}

const params = z.strictObject({ demotion_paths: demotionPathsParam });

export const oneWay: DemotionPolicyModule<z.infer<typeof params>> = {
  id: 'one-way',
  summary: 'pages move only along the acyclic graph of demotion_paths, in the listed order',
  params,
  check(p, ctx) {
    if (p.demotion_paths === undefined) return `tiering.demotion_paths: required by demotion_policy one-way`;
    const err = checkDemotionPaths(p.demotion_paths, ctx.nodeIds);
    if (err !== null) return err;
    const graph = new Map(Object.entries(p.demotion_paths).map(([k, v]) => [Number(k), v]));
    const cycle = findCycle(graph);
    return cycle
      ? `tiering.demotion_paths: the one-way graph has a cycle ${cycle.join(' -> ')}; one-way paths must be acyclic`
      : null;
  },
  create: (p, ctx) => oneWayDemotion(ctx.topo, { paths: densePaths(p.demotion_paths, ctx.dense) }),
};
