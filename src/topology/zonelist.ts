import { type Topology, nodeById, nodeDistance, nodeHasCpus } from './types.js';

/**
 * Node fallback order as mm/page_alloc.c builds it: find_next_best_node(), build_zonelists() and
 * __build_all_zonelists(). Demotion target selection (demotion.ts) reuses find_next_best_node().
 */

/** 1 << CONFIG_NODES_SHIFT; 10 is the x86-64 MAXSMP value used by the common distributions. */
export const MAX_NUMNODES = 1 << 10;
/** include/linux/topology.h: nodes with CPUs are made slightly less attractive as fallbacks. */
export const PENALTY_FOR_NODE_WITH_CPUS = 1;
export const NUMA_NO_NODE = -1;

/**
 * Where node_load[] comes from when a target is picked:
 * - 'kernel': the values __build_all_zonelists() leaves behind after building every node's
 *   zonelist in ascending node order. The kernel rebuilds all zonelists whenever a node's memory
 *   comes online, before the memory-tier hotplug callback recomputes demotion targets, so this is
 *   the state establish_demotion_targets() actually sees on a booted host.
 * - 'zero': node_load[] all zero (ties between equal scores then go to the lowest node id).
 */
export type NodeLoadMode = 'kernel' | 'zero';

export type NodeLoad = ReadonlyMap<number, number>;

/**
 * find_next_best_node(node, used): the local node first (if unused), then the unused memory node
 * with the smallest score distance + (n < node) + CPU penalty, scaled by MAX_NUMNODES plus
 * node_load[n]; strict "<" so equal scores go to the lowest id. Marks the pick in `used`.
 */
export function findNextBestNode(
  topo: Topology,
  node: number,
  used: Set<number>,
  nodeLoad?: NodeLoad,
): number {
  nodeById(topo, node);
  // Every node of the model has memory (N_MEMORY), so the local-node shortcut always applies.
  if (!used.has(node)) {
    used.add(node);
    return node;
  }
  let minVal = Number.MAX_SAFE_INTEGER;
  let best = NUMA_NO_NODE;
  for (const n of topo.nodes) {
    if (used.has(n.id)) continue;
    let val = nodeDistance(topo, node, n.id);
    // "Penalize nodes under us" so that equal distances spread to the next node up.
    if (n.id < node) val += 1;
    // Prefer headless (CPU-less) nodes: they have little allocation pressure of their own.
    if (nodeHasCpus(n)) val += PENALTY_FOR_NODE_WITH_CPUS;
    val *= MAX_NUMNODES;
    val += nodeLoad?.get(n.id) ?? 0;
    if (val < minVal) {
      minVal = val;
      best = n.id;
    }
  }
  if (best !== NUMA_NO_NODE) used.add(best);
  return best;
}

export interface Zonelists {
  /** Fallback order per node (the kernel's "Fallback order for Node N:" line), local node first. */
  readonly order: ReadonlyMap<number, readonly number[]>;
  /** node_load[] after the build, as seen by later find_next_best_node() callers. */
  readonly nodeLoad: NodeLoad;
}

/**
 * __build_all_zonelists(): node_load[] is cleared, then build_zonelists() runs for every node in
 * ascending order. Each time a node starts a new distance group in some node's list it gets
 * node_load += 1 (round-robin between equally distant nodes), which shifts later ties.
 */
export function buildAllZonelists(topo: Topology, mode: NodeLoadMode = 'kernel'): Zonelists {
  const load = new Map<number, number>(topo.nodes.map((n) => [n.id, 0]));
  const order = new Map<number, number[]>();
  for (const local of topo.nodes) {
    const used = new Set<number>();
    const list: number[] = [];
    let prev = local.id;
    for (;;) {
      const n = findNextBestNode(topo, local.id, used, mode === 'kernel' ? load : undefined);
      if (n === NUMA_NO_NODE) break;
      if (mode === 'kernel' && nodeDistance(topo, local.id, n) !== nodeDistance(topo, local.id, prev)) {
        load.set(n, (load.get(n) ?? 0) + 1);
      }
      list.push(n);
      prev = n;
    }
    order.set(local.id, list);
  }
  return { order, nodeLoad: load };
}

/** The allocation fallback order for `node`: every memory node, local first, as the kernel builds it. */
export function zonelistOrder(topo: Topology, node: number, mode: NodeLoadMode = 'kernel'): number[] {
  nodeById(topo, node);
  return [...(buildAllZonelists(topo, mode).order.get(node) ?? [])];
}
