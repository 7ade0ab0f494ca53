import { z } from 'zod';
import type { KmemPlacementModule } from './types.js';

/**
 * What Linux does: the CPU node's zonelist minus ZONE_MOVABLE nodes, which GFP_KERNEL
 * allocations cannot use (slow memory onlined movable is thus protected).
 */
export const local: KmemPlacementModule = {
  id: 'local',
  summary: "the CPU node's zonelist without ZONE_MOVABLE nodes, as GFP_KERNEL allocates",
  params: z.strictObject({}),
  create: (_p, { topo, cpuNode }) =>
    Int32Array.from(topo.nodes[cpuNode].zonelist.filter((n) => topo.nodes[n].movable !== true)),
};
