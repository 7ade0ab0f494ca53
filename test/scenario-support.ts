/**
 * The small two-tier host the ratio and hint tests share: one DRAM node with CPUs and one
 * CPU-less slow node with PMEM-like figures (docs/cost-model.md), SLIT 17 between them.
 */
export function twoTierTopology(o: { dram: string; slow: string; cpus?: number[] }): Record<string, unknown> {
  return {
    nodes: [
      {
        id: 0,
        cpus: o.cpus ?? [0],
        size: o.dram,
        read_latency: 100,
        write_latency: 100,
        read_bandwidth: 100000,
        write_bandwidth: 60000,
      },
      {
        id: 1,
        cpus: [],
        size: o.slow,
        read_latency: 300,
        write_latency: 100,
        read_bandwidth: 40000,
        write_bandwidth: 14000,
      },
    ],
    distance: [
      [10, 17],
      [17, 10],
    ],
  };
}
