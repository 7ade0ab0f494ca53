/**
 * The host both benchmarks run on: one DRAM node with two CPUs and one CPU-less PMEM node, with
 * the built-in scenario's figures (DRAM ~101 ns; Optane DCPMM ~305 ns read, ~94 ns write).
 */
export function benchTopology(dramSize: string, pmemSize: string): Record<string, unknown> {
  return {
    nodes: [
      {
        id: 0,
        cpus: [0, 1],
        size: dramSize,
        class: 'dram',
        read_latency: 101,
        write_latency: 101,
        read_bandwidth: 100000,
        write_bandwidth: 60000,
      },
      {
        id: 1,
        cpus: [],
        size: pmemSize,
        class: 'pmem',
        read_latency: 305,
        write_latency: 94,
        read_bandwidth: 39600,
        write_bandwidth: 13800,
      },
    ],
    distance: [
      [10, 17],
      [17, 10],
    ],
  };
}
