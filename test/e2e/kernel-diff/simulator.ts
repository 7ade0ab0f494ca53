import { buildPlacement } from '../../../src/host/mempolicy-placement.js';
import type { Mempolicy } from '../../../src/host/mempolicy.js';
import { PTE_DIRTY, PTE_PFN_MASK, PTE_YOUNG } from '../../../src/host/pte.js';
import { proactiveReclaim } from '../../../src/host/reclaim.js';
import { VM } from '../../../src/host/vmstat.js';
import { buildRun, type BuiltRun } from '../../../src/scenario/build.js';
import { resolveScenario } from '../../../src/scenario/load.js';
import {
  calculateMinFreeKbytes,
  lowmemPages,
  setupZoneWmarks,
  type WatermarkZone,
  type ZoneWatermarks,
} from '../../../src/topology/watermarks.js';
import {
  PLACEMENT_PAGES,
  PROMOTION_LOOP_MS,
  PROMOTION_PAGES,
  RECLAIM_PAGES,
  RECLAIM_REQUEST_PAGES,
  SWAP_MIB,
  pagesPerNode,
  type GuestZone,
  type PlacementCase,
  type ReclaimCase,
} from './guest.js';
import { numatierTopology, type TopologyJSON } from '../harness/topology-check.js';
import { nodeOfCpu, topologyFileOf, type DiffTopology } from './topologies.js';

/**
 * The simulator side of the differential suite: the same host and the same operations, through
 * numatier's own code paths (the `topology` command, the watermark functions, a scenario's
 * host and its fault, reclaim and NUMA-balancing paths).
 */

/** `numatier topology --json` of the guest's topology, run as a user would. */
export function topologyModel(t: DiffTopology): TopologyJSON {
  return numatierTopology(`${t.id}.json`, JSON.stringify(topologyFileOf(t)));
}

/** The guest's zones as numatier's watermark functions take them (their managed pages). */
function watermarkZones(zones: readonly GuestZone[]): WatermarkZone[] {
  return zones.map((z) => ({
    node: z.node,
    managedPages: z.managed,
    zone: z.name === 'Movable' ? 'movable' : 'normal',
  }));
}

/** numatier's watermarks for the guest's zones. */
export function zoneWatermarks(
  zones: readonly GuestZone[],
  minFreeKbytes: number,
  wsf: number,
): ZoneWatermarks[] {
  return setupZoneWmarks(watermarkZones(zones), minFreeKbytes, wsf);
}

/** calculate_min_free_kbytes() at boot, over every non-movable zone's managed pages. */
export function bootMinFreeKbytes(zones: readonly GuestZone[]): number {
  return calculateMinFreeKbytes(lowmemPages(watermarkZones(zones)) * 4n);
}

/**
 * calculate_min_free_kbytes() as set_recommended_min_free_kbytes() calls it when THP is
 * switched off: over nr_free_buffer_pages(), the managed pages above the high watermark of every
 * zone a GFP_USER allocation may use (DMA, DMA32, Normal), at the watermarks of the moment.
 */
export function recomputedMinFreeKbytes(zones: readonly GuestZone[]): number {
  let pages = 0;
  for (const z of zones)
    if (['DMA', 'DMA32', 'Normal'].includes(z.name)) pages += Math.max(0, z.managed - z.high);
  return calculateMinFreeKbytes(BigInt(pages * 4));
}

interface ScenarioVm {
  pages: number;
  cpuNode?: number;
  mempolicy?: { mode: string; nodes?: number[] };
  cgroup?: string;
  cpusetMems?: number[];
}

/** A one-VM scenario on the guest's topology, built (not run). */
function buildOne(
  t: DiffTopology,
  vm: ScenarioVm,
  o: {
    sizeKiB?: readonly number[];
    kernel?: Record<string, unknown>;
    cgroups?: Record<string, unknown>[];
    durationMs?: number;
    pattern?: string;
  } = {},
): BuiltRun {
  const raw = {
    name: `kernel-diff ${t.id}`,
    topology: topologyFileOf(t, o.sizeKiB),
    duration_ms: o.durationMs ?? 1000,
    kernel: { swap: 'none', ...o.kernel },
    cgroups: o.cgroups ?? [],
    vms: [
      {
        name: 'task',
        cpu_node: vm.cpuNode ?? 0,
        ...(vm.cgroup !== undefined ? { cgroup: vm.cgroup } : {}),
        ...(vm.mempolicy !== undefined ? { mempolicy: vm.mempolicy } : {}),
        ...(vm.cpusetMems !== undefined ? { cpuset_mems: vm.cpusetMems } : {}),
        workload: { pattern: o.pattern ?? 'sequential', footprint: `${vm.pages * 4}KiB` },
      },
    ],
  };
  return buildRun(resolveScenario(raw, process.cwd(), 'kernel-diff'), 1);
}

/** Writes every page of the VM once, in order, through the fault path (as the helper's `touch`). */
function touchAll(run: BuiltRun): void {
  const host = run.host;
  const as = host.spaces[0];
  for (let v = 0; v < as.pages; v++) {
    const g = as.base + v;
    if (host.pt[g] < 0 && host.fault(as, v, true) < 0) throw new Error(`simulated fault on page ${v} failed`);
    host.pt[g] |= PTE_YOUNG | PTE_DIRTY; // what the MMU sets on the write
  }
}

/** Runs of [node, pages] of the VM's pages in address order; -2 (−ENOENT) for pages not present. */
function runsOf(run: BuiltRun): [number, number][] {
  const host = run.host;
  const as = host.spaces[0];
  const out: [number, number][] = [];
  for (let v = 0; v < as.pages; v++) {
    const pte = host.pt[as.base + v];
    const node = pte < 0 ? -2 : host.frames.nodeOf(pte & PTE_PFN_MASK);
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === node) last[1]++;
    else out.push([node, 1]);
  }
  return out;
}

/**
 * The simulator's placement of the helper's mapping. The kernel's interleave index of an
 * anonymous page is its virtual page number; numatier's VM window starts at page 0, so the
 * placement is asked for the guest mapping's page numbers (its start_pfn + offset).
 */
export function placement(t: DiffTopology, c: PlacementCase, startPfn: number): [number, number][] {
  const run = buildOne(
    t,
    {
      pages: PLACEMENT_PAGES,
      cpuNode: nodeOfCpu(t, c.cpu ?? 0),
      mempolicy: { mode: c.mode, ...(c.nodes.length > 0 ? { nodes: c.nodes } : {}) },
    },
    { kernel: c.weights ? { weighted_interleave: Object.fromEntries(Object.entries(c.weights)) } : {} },
  );
  try {
    const as = run.host.spaces[0];
    const inner = as.placement;
    as.placement = { candidates: (ilx) => inner.candidates(ilx + startPfn) };
    touchAll(run);
    return runsOf(run);
  } finally {
    run.close();
  }
}

export interface ReclaimFigures {
  /** Pages per node at the end; -1: not present (swapped out). */
  pages: Map<number, number>;
  pgsteal: number;
  pgscan: number;
  pgdemote: number;
  pswpout: number;
  /** /proc/vmstat's pgsteal_* of the reclaimer, which leaves out cgroup reclaim. */
  globalPgsteal: number;
  /** memory.numa_stat anon, pages per node. */
  numaStatAnon: number[];
}

/**
 * A reclaim case in the simulator: the guest's free memory per node as the host, one task in
 * its cgroup touching the same pages, then memory.reclaim (proactive reclaim) or the charge path
 * against memory.max.
 */
export function reclaim(t: DiffTopology, c: ReclaimCase, freeKiB: readonly number[]): ReclaimFigures {
  const cg = `/${c.id}`;
  const run = buildOne(
    t,
    { pages: RECLAIM_PAGES, cgroup: cg, ...(c.cpusetMems ? { cpusetMems: c.cpusetMems } : {}) },
    {
      sizeKiB: freeKiB,
      kernel: { swap: `${SWAP_MIB}MiB`, demotion_enabled: c.demotion },
      cgroups: [{ path: cg, ...(c.memoryMax ? { 'memory.max': c.memoryMax.replace('M', 'MiB') } : {}) }],
    },
  );
  try {
    const host = run.host;
    const memcg = host.cgroups.idOf(cg) as number;
    touchAll(run);
    if (c.reclaim !== 'none') proactiveReclaim(host, memcg, RECLAIM_REQUEST_PAGES);
    const v = host.vmstat;
    const proactive = c.reclaim !== 'none';
    return {
      pages: pagesPerNode(runsOf(run)),
      pgsteal: v.memcg(memcg, proactive ? VM.pgsteal_proactive : VM.pgsteal_direct),
      pgscan: v.memcg(memcg, proactive ? VM.pgscan_proactive : VM.pgscan_direct),
      pgdemote: v.memcg(memcg, proactive ? VM.pgdemote_proactive : VM.pgdemote_direct),
      pswpout: v.global(VM.pswpout),
      globalPgsteal: v.global(proactive ? VM.pgsteal_proactive : VM.pgsteal_direct),
      numaStatAnon: run.topo.nodes.map((_, n) => host.memcgNodePages(memcg, n)),
    };
  } finally {
    run.close();
  }
}

/**
 * NUMA-balancing promotion in the simulator: the buffer faulted in on node 1 (preferred), the
 * policy reset to default, then a sequential loop over it for as long as the guest's.
 */
export function promotion(t: DiffTopology): { pages: Map<number, number>; pgpromote: number } {
  const run = buildOne(
    t,
    { pages: PROMOTION_PAGES, mempolicy: { mode: 'preferred', nodes: [1] } },
    { kernel: { numa_balancing: 2 }, durationMs: PROMOTION_LOOP_MS },
  );
  try {
    touchAll(run);
    const as = run.host.spaces[0];
    const zonelists = run.topo.nodes.map((n) => Int32Array.from(n.zonelist));
    const def: Mempolicy = { mode: 'default', nodes: [] };
    as.placement = buildPlacement(def, as.cpuNode, zonelists, new Uint8Array(run.topo.nodes.length).fill(1));
    run.numa?.setPolicy(as.id, def);
    run.sim.run();
    return { pages: pagesPerNode(runsOf(run)), pgpromote: run.host.vmstat.global(VM.pgpromote_success) };
  } finally {
    run.close();
  }
}
