/**
 * What the simulated host needs to know about the machine, with nodes in a dense index
 * 0..n-1 (kernel node ids may be sparse; `id` keeps the kernel's). Built from a Topology by
 * `hostTopologyFrom` so the host never re-derives tiers or watermarks itself.
 */
export interface NodePerf {
  readLatencyNs: number;
  writeLatencyNs: number;
  readBandwidthMBps: number;
  writeBandwidthMBps: number;
}

export interface HostNode {
  id: number;
  hasCpu: boolean;
  cpus: readonly number[];
  capacityPages: number;
  /** The node's memory is ZONE_MOVABLE (e.g. dax/kmem onlined movable): no kernel allocations. */
  movable?: boolean;
  wmarkMin: number;
  wmarkLow: number;
  wmarkHigh: number;
  wmarkPromo: number;
  adistance: number;
  tier: number;
  toptier: boolean;
  /** Dense indices of the kernel's node_demotion[].preferred. */
  demotionPreferred: readonly number[];
  /** Dense indices of lower_tier_mask, in this node's zonelist order (nearest first). */
  demotionFallback: readonly number[];
  /** Dense indices, local node first then find_next_best_node order. */
  zonelist: readonly number[];
  perf: NodePerf;
  /** Optional memory-side cache in front of the node (HMAT memory_side_cache). */
  sideCache?: { sizePages: number; hitReadNs: number; hitWriteNs: number };
}

export interface HostTopology {
  name: string;
  nodes: readonly HostNode[];
  /** SLIT distances, dense indices. */
  distance: readonly (readonly number[])[];
}

export function denseIndexOf(topo: HostTopology, id: number): number {
  const i = topo.nodes.findIndex((n) => n.id === id);
  if (i < 0) throw new Error(`no node ${id}`);
  return i;
}
