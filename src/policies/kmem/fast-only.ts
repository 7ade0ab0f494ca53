import { z } from 'zod';
import type { KmemPlacementModule } from './types.js';

/** Top-tier nodes only, nearest first: kernel memory never lands in the slow tier. */
export const fastOnly: KmemPlacementModule = {
  id: 'fast-only',
  summary: 'top-tier nodes only, nearest first',
  params: z.strictObject({}),
  create: (_p, { topo, cpuNode }) =>
    Int32Array.from(topo.nodes[cpuNode].zonelist.filter((n) => topo.nodes[n].toptier)),
};
