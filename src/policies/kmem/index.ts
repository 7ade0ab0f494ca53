import type { HostTopology } from '../../host/host-topology.js';

/**
 * Where a VM's unmovable kernel memory (dentry and inode caches, idea S13) may be allocated,
 * as a node order for the allocator. One function per policy, chosen by name.
 * - local: what Linux does: the CPU node's zonelist, minus ZONE_MOVABLE nodes, which
 *   GFP_KERNEL allocations cannot use (slow memory onlined movable is thus protected);
 * - fast-only: top-tier nodes only, nearest first;
 * - anywhere: every node of the zonelist, as if slow memory were onlined as ZONE_NORMAL —
 *   kernel memory spills into the slow tier once DRAM is short.
 */
export type KmemPlacementName = 'local' | 'fast-only' | 'anywhere';
export const KMEM_PLACEMENTS: readonly KmemPlacementName[] = ['local', 'fast-only', 'anywhere'];

export function kmemNodeOrder(name: KmemPlacementName, topo: HostTopology, cpuNode: number): Int32Array {
  const zl = topo.nodes[cpuNode].zonelist;
  switch (name) {
    case 'local':
      return Int32Array.from(zl.filter((n) => topo.nodes[n].movable !== true));
    case 'fast-only':
      return Int32Array.from(zl.filter((n) => topo.nodes[n].toptier));
    case 'anywhere':
      return Int32Array.from(zl);
  }
}
