import type { GuestHmat, GuestTopology } from './qemu.js';

/**
 * The guest the end-to-end tests boot: node 0 with both CPUs, node 1 CPU-less (CXL- or
 * PMEM-like), 512 MiB each, SLIT 10 local and 20 remote.
 */
export const TWO_NODES: GuestTopology = {
  nodes: [
    { cpus: 2, memMiB: 512 },
    { cpus: 0, memMiB: 512 },
  ],
};

/**
 * HMAT for TWO_NODES: node 1 three times slower and a quarter the bandwidth. With it, Debian's
 * 6.12 puts node 1 in a lower memory tier and gives node 0 a demotion target; without it, one tier.
 */
export const TWO_NODE_HMAT: GuestHmat[] = [
  { initiator: 0, target: 0, latencyNs: 100, bandwidthMBps: 20 * 1024 },
  { initiator: 0, target: 1, latencyNs: 300, bandwidthMBps: 5 * 1024 },
];
