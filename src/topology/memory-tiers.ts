import { MEMTIER_CHUNK_BITS, MEMTIER_CHUNK_SIZE } from './adistance.js';
import { type Topology, nodeHasCpus } from './types.js';

/** Memory tiers from abstract distances, as mm/memory-tiers.c groups them. */

export interface MemoryTier {
  /** sysfs id: memory_tier<id> = adistance_start >> MEMTIER_CHUNK_BITS. */
  readonly id: number;
  readonly adistanceStart: number;
  /** Ascending node ids. */
  readonly nodes: readonly number[];
}

/** find_create_memory_tier(): round_down(adistance, MEMTIER_CHUNK_SIZE). */
export function adistanceStart(adist: number): number {
  return adist & ~(MEMTIER_CHUNK_SIZE - 1);
}

export function tierIdOf(adist: number): number {
  return adistanceStart(adist) >> MEMTIER_CHUNK_BITS;
}

/**
 * The memory_tiers list: one tier per 128-wide chunk that holds at least one node, kept sorted by
 * ascending adistance_start (fastest first).
 */
export function buildMemoryTiers(adistances: ReadonlyMap<number, number>): MemoryTier[] {
  const byStart = new Map<number, number[]>();
  for (const [node, adist] of adistances) {
    const start = adistanceStart(adist);
    const list = byStart.get(start) ?? [];
    list.push(node);
    byStart.set(start, list);
  }
  return [...byStart.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([start, nodes]) => ({
      id: start >> MEMTIER_CHUNK_BITS,
      adistanceStart: start,
      nodes: [...nodes].sort((a, b) => a - b),
    }));
}

/**
 * establish_demotion_targets(): walking the tiers from the slowest, the first one that holds a
 * node with CPUs sets top_tier_adistance to the end of its chunk. If no tier has CPUs the kernel
 * leaves the static variable at its previous value (0 at boot).
 */
export function computeTopTierAdistance(topo: Topology, tiers: readonly MemoryTier[]): number {
  const cpuNodes = new Set(topo.nodes.filter(nodeHasCpus).map((n) => n.id));
  for (let i = tiers.length - 1; i >= 0; i--) {
    if (tiers[i].nodes.some((n) => cpuNodes.has(n))) {
      return tiers[i].adistanceStart + MEMTIER_CHUNK_SIZE - 1;
    }
  }
  return 0;
}

/** node_is_toptier(): the node's tier starts at or below top_tier_adistance. */
export function nodeIsToptier(tier: MemoryTier, topTierAdistance: number): boolean {
  return tier.adistanceStart <= topTierAdistance;
}
