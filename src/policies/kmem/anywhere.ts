import { z } from 'zod';
import type { KmemPlacementModule } from './types.js';

/**
 * Every node of the zonelist, as if slow memory were onlined as ZONE_NORMAL: kernel memory
 * spills into the slow tier once DRAM is short.
 */
export const anywhere: KmemPlacementModule = {
  id: 'anywhere',
  summary: 'every node of the zonelist, as if slow memory were ZONE_NORMAL',
  params: z.strictObject({}),
  create: (_p, { topo, cpuNode }) => Int32Array.from(topo.nodes[cpuNode].zonelist),
};
