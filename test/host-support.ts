import type { AddressSpaceSpec, Placement, PlacementCandidates } from '../src/host/address-space.js';
import type { CgroupSpec } from '../src/host/cgroups.js';
import { DEFAULT_KERNEL_COSTS } from '../src/host/costs.js';
import { Host } from '../src/host/host.js';
import { PTE_DIRTY, PTE_YOUNG } from '../src/host/pte.js';
import type { HostNode, HostTopology } from '../src/host/host-topology.js';
import { kernelDemotion } from '../src/policies/demotion/kernel.js';
import type { DemotionPolicy } from '../src/policies/demotion/types.js';

/** Small hand-built hosts for unit tests of the simulated kernel. */

export function simpleRandom(seed = 1): { nextU32(): number; nextInt(n: number): number } {
  let s = seed >>> 0 || 1;
  const nextU32 = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return { nextU32, nextInt: (n: number) => nextU32() % n };
}

export interface NodeShape {
  pages: number;
  cpu: boolean;
  /** min/low/high/promo; default derived as small fractions of the node. */
  wmarks?: [number, number, number, number];
  toptier?: boolean;
  preferred?: number[];
  /** The node's zone is ZONE_MOVABLE. */
  movable?: boolean;
}

export function makeTopology(shapes: NodeShape[], distance?: number[][]): HostTopology {
  const n = shapes.length;
  const dist = distance ?? shapes.map((_, i) => shapes.map((__, j) => (i === j ? 10 : 20)));
  const nodes: HostNode[] = shapes.map((s, i) => {
    const [min, low, high, promo] = s.wmarks ?? [
      Math.floor(s.pages / 64),
      Math.floor(s.pages / 32),
      Math.floor((3 * s.pages) / 64),
      Math.floor(s.pages / 16),
    ];
    const zonelist = [
      i,
      ...[...Array(n).keys()].filter((j) => j !== i).sort((a, b) => dist[i][a] - dist[i][b] || a - b),
    ];
    const preferred = s.preferred ?? [];
    return {
      id: i,
      hasCpu: s.cpu,
      cpus: s.cpu ? [i] : [],
      capacityPages: s.pages,
      movable: s.movable ?? false,
      wmarkMin: min,
      wmarkLow: low,
      wmarkHigh: high,
      wmarkPromo: promo,
      adistance: s.cpu ? 576 : 2880,
      tier: s.cpu ? 4 : 22,
      toptier: s.toptier ?? s.cpu,
      demotionPreferred: preferred,
      demotionFallback: preferred.length > 0 ? zonelist.filter((x) => !shapes[x].cpu) : [],
      zonelist,
      perf: s.cpu
        ? { readLatencyNs: 100, writeLatencyNs: 100, readBandwidthMBps: 100000, writeBandwidthMBps: 60000 }
        : { readLatencyNs: 300, writeLatencyNs: 100, readBandwidthMBps: 30000, writeBandwidthMBps: 10000 },
    };
  });
  return { name: 'test', nodes, distance: dist };
}

/** A placement that always walks `order` (the local zonelist of a default policy). */
export function fixedPlacement(order: number[]): Placement {
  const c: PlacementCandidates = {
    primary: Int32Array.from(order),
    primaryNoDirectReclaim: false,
    secondary: null,
    interleaveNid: -1,
  };
  return { candidates: () => c };
}

export interface SmallHostOptions {
  nodes: NodeShape[];
  spaces: { pages: number; filePages?: number; memcg?: number; cpuNode?: number; order?: number[] }[];
  cgroups?: CgroupSpec[];
  swapPages?: number;
  demotionEnabled?: boolean;
  numaBalancing?: number;
  seed?: number;
  /** The demotion policy, built from the host's topology (default: the kernel's). */
  demotion?: (topo: HostTopology) => DemotionPolicy;
}

export function smallHost(o: SmallHostOptions): Host {
  const topo = makeTopology(o.nodes);
  const spaces: AddressSpaceSpec[] = o.spaces.map((s, i) => {
    const cpuNode = s.cpuNode ?? 0;
    return {
      name: `vm${i}`,
      memcg: s.memcg ?? 0,
      cpuNode,
      pages: s.pages,
      filePages: s.filePages ?? 0,
      placement: fixedPlacement(s.order ?? topo.nodes[cpuNode].zonelist.slice()),
    };
  });
  return new Host({
    topology: topo,
    cgroups: o.cgroups ?? [],
    addressSpaces: spaces,
    swapPages: o.swapPages ?? 0,
    swappiness: 60,
    demotionEnabled: o.demotionEnabled ?? false,
    demotion: o.demotion ? o.demotion(topo) : kernelDemotion(topo),
    numaBalancing: o.numaBalancing ?? 0,
    costs: DEFAULT_KERNEL_COSTS,
    rng: simpleRandom(o.seed ?? 1),
  });
}

/** Touches pages [from, to) of address space `as` once, faulting them in. */
export function touch(host: Host, asId: number, from: number, to: number, write = false): void {
  const as = host.spaces[asId];
  for (let v = from; v < to; v++) {
    const g = as.base + v;
    if (host.pt[g] < 0) {
      if (host.fault(as, v, write) < 0) return;
    }
    host.pt[g] |= PTE_YOUNG | (write ? PTE_DIRTY : 0); // as the MMU does on every access
  }
}
