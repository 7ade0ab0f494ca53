/**
 * The validated, normalised description of a host's NUMA nodes. Everything the kernel derives
 * (tiers, demotion targets, watermarks) is computed from this by the other files in this folder.
 */

/** Memory technology of a node; used only to choose the kernel's default abstract distance. */
export type MemoryClass = 'dram' | 'pmem' | 'cxl' | 'hbm';

/** The zone a node's memory sits in (one zone per node in this model). */
export type ZoneKind = 'normal' | 'movable';

/**
 * HMAT/CDAT performance of a memory node as seen from its nearest CPU initiator
 * (struct access_coordinate, include/linux/node.h). Latencies in ns, bandwidths in MB/s.
 */
export interface AccessCoordinate {
  readonly read_latency: number;
  readonly write_latency: number;
  readonly read_bandwidth: number;
  readonly write_bandwidth: number;
}

export interface NodeSpec {
  readonly id: number;
  /** CPU ids on this node, ascending; empty for a CPU-less (memory-only) node. */
  readonly cpus: readonly number[];
  readonly sizeBytes: number;
  readonly memoryClass: MemoryClass;
  readonly perf?: AccessCoordinate;
  /** Explicit abstract distance; overrides performance data and class defaults. */
  readonly adist?: number;
  readonly zone: ZoneKind;
  /** A memory-side cache in front of the node (Optane "memory mode" DRAM, idea S14). */
  readonly memorySideCache?: {
    readonly sizeBytes: number;
    readonly readLatency: number;
    readonly writeLatency: number;
  };
}

export interface Topology {
  readonly name?: string;
  /** Ascending node id. Ids may be sparse (e.g. 0 and 2). */
  readonly nodes: readonly NodeSpec[];
  /** SLIT: distance.get(from).get(to). Complete for every ordered pair, diagonal 10. */
  readonly distance: ReadonlyMap<number, ReadonlyMap<number, number>>;
}

/** node_distance(from, to) from the SLIT. Throws on an unknown node: callers pass valid ids. */
export function nodeDistance(topo: Topology, from: number, to: number): number {
  const d = topo.distance.get(from)?.get(to);
  if (d === undefined) throw new RangeError(`node_distance(${from}, ${to}): no such node`);
  return d;
}

export function nodeById(topo: Topology, id: number): NodeSpec {
  const n = topo.nodes.find((x) => x.id === id);
  if (!n) throw new RangeError(`node ${id} does not exist`);
  return n;
}

/** N_CPU membership: the node has at least one CPU. */
export function nodeHasCpus(node: NodeSpec): boolean {
  return node.cpus.length > 0;
}
