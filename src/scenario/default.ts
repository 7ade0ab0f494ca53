/**
 * The built-in scenario `numatier simulate` runs without a file: the low-cost VM host of the
 * 2019 LSFMM discussion — two DRAM sockets with CPUs, each with a CPU-less persistent-memory
 * node used as RAM — and four tenant VMs with different access patterns, more memory in total
 * than the DRAM holds. The kernel's tiering is on (demotion, numa_balancing = 2); two VMs are
 * sold with a 1:3 fast:slow ratio. Figures: DRAM ~101 ns, Optane DCPMM ~305 ns random read, ~94 ns write
 * (to the ADR domain), ~6.6 / 2.3 GB/s read / write per DIMM, six DIMMs per socket
 * (Izraelevitz et al. 2019, arXiv:1903.05714). Distances as on a two-socket Cascade Lake
 * host with PMEM nodes (SPEC CE-1.2: 10/21/17/28).
 */
export const DEFAULT_SCENARIO = {
  name: 'lowcost-vm-host',
  seed: 1,
  description: 'Two DRAM sockets plus two CPU-less PMEM nodes; four VMs whose footprints exceed DRAM.',
  duration_ms: 3000,
  sample_interval_ms: 20,
  topology: {
    name: 'two-socket DRAM + PMEM',
    nodes: [
      {
        id: 0,
        cpus: [0, 1, 2, 3, 4, 5, 6, 7],
        size: '4GiB',
        class: 'dram',
        read_latency: 101,
        write_latency: 101,
        read_bandwidth: 100000,
        write_bandwidth: 60000,
      },
      {
        id: 1,
        cpus: [8, 9, 10, 11, 12, 13, 14, 15],
        size: '4GiB',
        class: 'dram',
        read_latency: 101,
        write_latency: 101,
        read_bandwidth: 100000,
        write_bandwidth: 60000,
      },
      {
        id: 2,
        cpus: [],
        size: '8GiB',
        class: 'pmem',
        zone: 'movable',
        read_latency: 305,
        write_latency: 94,
        read_bandwidth: 39600,
        write_bandwidth: 13800,
      },
      {
        id: 3,
        cpus: [],
        size: '8GiB',
        class: 'pmem',
        zone: 'movable',
        read_latency: 305,
        write_latency: 94,
        read_bandwidth: 39600,
        write_bandwidth: 13800,
      },
    ],
    distance: [
      [10, 21, 17, 28],
      [21, 10, 28, 17],
      [17, 28, 10, 28],
      [28, 17, 28, 10],
    ],
  },
  kernel: {
    demotion_enabled: true,
    numa_balancing: 2,
    swappiness: 60,
    swap: '8GiB',
  },
  // The administrator sells two of the VMs as "low-cost": a quarter of their memory fast.
  ratio: { strategy: 'charge-retry', promotion: 'refuse' },
  cgroups: [
    { path: '/vms' },
    { path: '/vms/web', 'memory.max': '4GiB' },
    { path: '/vms/kv', 'memory.max': '5GiB', 'memory.tier_ratio': '1:3' },
    { path: '/vms/batch', 'memory.max': '4GiB', 'memory.tier_ratio': '1:3' },
    { path: '/vms/analytics', 'memory.max': '3GiB' },
  ],
  vms: [
    {
      name: 'web',
      cgroup: '/vms/web',
      cpu_node: 0,
      file_backed: '256MiB',
      workload: { footprint: '3GiB', pattern: 'zipfian', theta: 0.99, write_ratio: 0.2, compute_ns: 40 },
    },
    {
      name: 'kv',
      cgroup: '/vms/kv',
      cpu_node: 0,
      workload: {
        footprint: '4GiB',
        pattern: 'hotset',
        hot_fraction: 0.1,
        hot_access_share: 0.9,
        shift_every_accesses: 2000000,
        shift_pages: 16384,
        write_ratio: 0.5,
        compute_ns: 30,
      },
    },
    {
      name: 'batch',
      cgroup: '/vms/batch',
      cpu_node: 1,
      workload: {
        footprint: '3GiB',
        pattern: 'sequential',
        stride_pages: 1,
        write_ratio: 0.3,
        compute_ns: 60,
      },
    },
    {
      name: 'analytics',
      cgroup: '/vms/analytics',
      cpu_node: 1,
      workload: {
        footprint: '2GiB',
        pattern: 'phases',
        phases: [
          { accesses: 3000000, pattern: 'uniform', write_ratio: 0.1, compute_ns: 50 },
          { accesses: 3000000, pattern: 'zipfian', theta: 0.8, write_ratio: 0.1, compute_ns: 50 },
        ],
        repeat: true,
      },
    },
  ],
};
