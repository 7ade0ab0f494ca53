import type { GuestHmat, GuestTopology } from '../harness/qemu.js';

/** A guest of the differential suite, with what numatier needs to model the same host. */
export interface DiffTopology {
  id: string;
  title: string;
  guest: GuestTopology;
  /** Memory class of each node, for numatier's topology file (only chooses a default adistance). */
  classes: ('dram' | 'cxl' | 'pmem')[];
}

/** HMAT entries from one initiator to each target: [target, ns, MB/s]. */
function hmatFrom(initiator: number, rows: [number, number, number][]): GuestHmat[] {
  return rows.map(([target, latencyNs, bandwidthMBps]) => ({ initiator, target, latencyNs, bandwidthMBps }));
}

/**
 * The guests. Latencies and bandwidths are the orders of magnitude published for each kind of
 * memory (DRAM ≈ 100 ns; CXL expanders ≈ 2–3× that at a quarter to half the bandwidth;
 * Optane PMEM ≈ 3–6× with a tenth of it), chosen so that the kernel's abstract distances fall
 * in distinct tiers.
 */
export const DIFF_TOPOLOGIES: readonly DiffTopology[] = [
  {
    id: 'dram+cxl',
    title: 'one socket: DRAM with 2 CPUs, a CPU-less CXL-like node',
    guest: {
      nodes: [
        { cpus: 2, memMiB: 512 },
        { cpus: 0, memMiB: 512 },
      ],
      hmat: hmatFrom(0, [
        [0, 100, 20480],
        [1, 300, 5120],
      ]),
    },
    classes: ['dram', 'cxl'],
  },
  {
    id: 'dram+cxl+pmem',
    title: 'one socket: DRAM with 2 CPUs, a CXL-like and a PMEM-like node, three tiers',
    guest: {
      nodes: [
        { cpus: 2, memMiB: 512 },
        { cpus: 0, memMiB: 256 },
        { cpus: 0, memMiB: 256 },
      ],
      distances: [
        [10, 20, 30],
        [20, 10, 30],
        [30, 30, 10],
      ],
      hmat: hmatFrom(0, [
        [0, 100, 20480],
        [1, 250, 10240],
        [2, 600, 2560],
      ]),
    },
    classes: ['dram', 'cxl', 'pmem'],
  },
  {
    id: '2-socket+cxl',
    title: 'two sockets, each DRAM with a CPU and its own CPU-less CXL-like node',
    guest: {
      nodes: [
        { cpus: 1, memMiB: 512 },
        { cpus: 1, memMiB: 384 },
        { cpus: 0, memMiB: 256, initiator: 0 },
        { cpus: 0, memMiB: 256, initiator: 1 },
      ],
      distances: [
        [10, 21, 20, 28],
        [21, 10, 28, 20],
        [20, 28, 10, 28],
        [28, 20, 28, 10],
      ],
      hmat: [
        ...hmatFrom(0, [
          [0, 100, 20480],
          [1, 160, 10240],
          [2, 300, 5120],
          [3, 400, 2560],
        ]),
        ...hmatFrom(1, [
          [0, 160, 10240],
          [1, 100, 20480],
          [2, 400, 2560],
          [3, 300, 5120],
        ]),
      ],
    },
    classes: ['dram', 'dram', 'cxl', 'cxl'],
  },
];

/** The node's HMAT figures as its local initiator sees them (what the kernel ranks it by). */
export function localPerf(t: DiffTopology, node: number): { latencyNs: number; bandwidthMBps: number } {
  const n = t.guest.nodes[node];
  const initiator = n.cpus > 0 ? node : (n.initiator ?? 0);
  const e = (t.guest.hmat ?? []).find((h) => h.initiator === initiator && h.target === node);
  if (e === undefined) throw new Error(`${t.id}: no HMAT entry ${initiator} → ${node}`);
  return e;
}

function distance(t: DiffTopology, i: number, j: number): number {
  return t.guest.distances?.[i][j] ?? (i === j ? 10 : 20);
}

/** numatier's topology file for the guest: the same nodes, CPUs, sizes, SLIT and HMAT. */
export function topologyFileOf(t: DiffTopology, sizeKiB?: readonly number[]): Record<string, unknown> {
  let cpu = 0;
  const nodes = t.guest.nodes.map((n, id) => {
    const cpus = Array.from({ length: n.cpus }, () => cpu++);
    const perf = localPerf(t, id);
    return {
      id,
      cpus,
      size: sizeKiB === undefined ? `${n.memMiB}MiB` : `${sizeKiB[id]}KiB`,
      class: t.classes[id],
      read_latency: perf.latencyNs,
      write_latency: perf.latencyNs,
      read_bandwidth: perf.bandwidthMBps,
      write_bandwidth: perf.bandwidthMBps,
    };
  });
  const ids = t.guest.nodes.map((_, i) => i);
  return { name: t.id, nodes, distance: ids.map((i) => ids.map((j) => distance(t, i, j))) };
}

/** The node whose CPUs include `cpu` (CPUs are numbered node by node, as the harness does). */
export function nodeOfCpu(t: DiffTopology, cpu: number): number {
  let first = 0;
  for (const [id, n] of t.guest.nodes.entries()) {
    if (cpu < first + n.cpus) return id;
    first += n.cpus;
  }
  throw new Error(`${t.id}: no CPU ${cpu}`);
}
