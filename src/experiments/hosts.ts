/**
 * Building blocks shared by the experiment scenarios: node descriptions with the default
 * cost figures (docs/cost-model.md) and the small hosts the experiments run on.
 */
export const DRAM_PERF = {
  read_latency: 101,
  write_latency: 101,
  read_bandwidth: 100000,
  write_bandwidth: 60000,
};
/** Optane DCPMM, six DIMMs (Izraelevitz et al. 2019). */
export const PMEM_PERF = {
  read_latency: 305,
  write_latency: 94,
  read_bandwidth: 39600,
  write_bandwidth: 13800,
};

export function dramNode(id: number, size: string, cpus: number[]): Record<string, unknown> {
  return { id, cpus, size, class: 'dram', ...DRAM_PERF };
}

export function pmemNode(
  id: number,
  size: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { id, cpus: [], size, class: 'pmem', ...PMEM_PERF, ...extra };
}

/** One DRAM node with CPUs and one CPU-less PMEM node. */
export function twoTierTopology(
  dram: string,
  pmem: string,
  pmemExtra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    nodes: [dramNode(0, dram, [0, 1, 2, 3]), pmemNode(1, pmem, pmemExtra)],
    distance: [
      [10, 17],
      [17, 10],
    ],
  };
}

/** Small-node watermark gaps are tiny; a larger scale factor gives them the proportions of GiB nodes. */
export const SMALL_NODE_KERNEL = { watermark_scale_factor: 100 };

/**
 * NUMA balancing on the experiments' time scale: scan delay, scan period and hot threshold
 * 200 ms, threshold adjustment every 1 s, so that a few simulated seconds hold many periods.
 */
export const TIME_SCALED_NUMA_BALANCING = {
  numa_balancing_scan_delay_ms: 200,
  numa_balancing_scan_period_min_ms: 200,
  numa_balancing_hot_threshold_ms: 200,
  numa_balancing_scan_period_max_ms: 1000,
};

/**
 * A CXL Type-3 memory expander: latency about twice DRAM's (Pond, ASPLOS'23, emulates CXL as one
 * NUMA hop, 70–90 ns more than local DRAM; real devices measure 140–410 ns, "Dissecting CXL
 * Memory Performance at Scale", arXiv:2409.14317) and one device's bandwidth, ≈22–24 GB/s in
 * STREAM (Gregory Price, LKML, 2024-02-02, weighted interleave v5 cover letter).
 */
export const CXL_PERF = {
  read_latency: 190,
  write_latency: 190,
  read_bandwidth: 24000,
  write_bandwidth: 24000,
};

export function cxlNode(
  id: number,
  size: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { id, cpus: [], size, class: 'cxl', ...CXL_PERF, ...extra };
}
