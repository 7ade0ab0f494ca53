import { DRAM_PERF, PMEM_PERF, SMALL_NODE_KERNEL, twoTierTopology } from '../hosts.js';
import type { Experiment, ExperimentScale } from '../types.js';
import { byLabel, fmt, vm } from './util.js';

/**
 * S14: the same DRAM either as a hardware cache in front of persistent memory (Optane "memory
 * mode": one node, direct-mapped) or as its own NUMA node managed by the kernel's tiering.
 */
export const memoryMode: Experiment = {
  name: 'memory-mode',
  ideas: ['S14', 'S1'],
  question:
    'Memory-mode caching vs. NUMA tiering with the same DRAM and PMEM: which serves a skewed workload better?',
  setup:
    "The same DRAM (a quarter of the footprint) and PMEM, as (a) a memory-side cache in front of one PMEM node with the CPUs, (b) a DRAM node plus a CPU-less PMEM node under the kernel's tiering (demotion + numa_balancing=2), compared with (c) all-DRAM and (d) all-PMEM. One zipfian VM.",
  variants(scale: ExperimentScale) {
    const quick = scale === 'quick';
    const dram = quick ? 64 : 256;
    const pmem = quick ? 256 : 1024;
    const footprint = quick ? 200 : 800;
    const single = (node: Record<string, unknown>) => ({ nodes: [node], distance: [[10]] });
    const v = (label: string, topology: Record<string, unknown>, kernel: Record<string, unknown> = {}) => ({
      label,
      scenario: {
        name: `memory-mode-${label}`,
        duration_ms: quick ? 2000 : 5000,
        sample_interval_ms: 50,
        topology,
        kernel: { ...SMALL_NODE_KERNEL, swap: '2GiB', ...kernel },
        vms: [
          {
            name: 'app',
            workload: {
              footprint: `${footprint}MiB`,
              pattern: 'zipfian',
              theta: 0.9,
              write_ratio: 0.2,
              compute_ns: 50,
            },
          },
        ],
      },
    });
    return [
      v('all-dram', single({ id: 0, cpus: [0, 1, 2, 3], size: `${pmem}MiB`, ...DRAM_PERF })),
      v(
        'memory-mode',
        single({
          id: 0,
          cpus: [0, 1, 2, 3],
          size: `${pmem}MiB`,
          ...PMEM_PERF,
          memory_side_cache: {
            size: `${dram}MiB`,
            read_latency: DRAM_PERF.read_latency,
            write_latency: DRAM_PERF.write_latency,
          },
        }),
      ),
      v('numa-tiering', twoTierTopology(`${dram}MiB`, `${pmem}MiB`), {
        demotion_enabled: true,
        numa_balancing: 2,
        numa_balancing_scan_delay_ms: 200,
        numa_balancing_scan_period_min_ms: 200,
        numa_balancing_hot_threshold_ms: 50,
      }),
      v('all-pmem', single({ id: 0, cpus: [0, 1, 2, 3], size: `${pmem}MiB`, ...PMEM_PERF })),
    ];
  },
  columns: [
    { header: 'AMAT ns', value: (r) => fmt(vm(r).amat_ns, 1) },
    { header: 'slowdown', value: (r) => fmt(vm(r).slowdown) },
    { header: 'fast hit', value: (r) => fmt(vm(r).fast_tier_hit_ratio) },
    {
      header: 'cache hit',
      value: (r) =>
        r.summary.nodes[0].memory_side_cache ? fmt(r.summary.nodes[0].memory_side_cache.hit_ratio) : '-',
    },
    { header: 'migrated', value: (r) => vm(r).promoted_pages + vm(r).demoted_pages },
  ],
  conclusions(results) {
    const dram = vm(byLabel(results, 'all-dram'));
    const mm = vm(byLabel(results, 'memory-mode'));
    const tier = vm(byLabel(results, 'numa-tiering'));
    const pmem = vm(byLabel(results, 'all-pmem'));
    const better = mm.amat_ns < tier.amat_ns ? 'memory-mode' : 'numa-tiering';
    return [
      {
        claim: 'both ways of using the DRAM beat having only PMEM (AMAT)',
        holds: mm.amat_ns < pmem.amat_ns && tier.amat_ns < pmem.amat_ns,
        detail: `memory mode ${fmt(mm.amat_ns, 1)}, tiering ${fmt(tier.amat_ns, 1)}, all-PMEM ${fmt(pmem.amat_ns, 1)} ns`,
        kind: 'prediction',
      },
      {
        claim: 'neither reaches all-DRAM',
        holds: mm.amat_ns > dram.amat_ns && tier.amat_ns > dram.amat_ns,
        detail: `all-DRAM ${fmt(dram.amat_ns, 1)} ns`,
        kind: 'prediction',
      },
      {
        claim: `on this workload ${better} has the lower AMAT (an observation, not a prediction of the debate)`,
        holds: true,
        detail: `memory mode ${fmt(mm.amat_ns, 1)} ns / slowdown ${fmt(mm.slowdown)}; tiering ${fmt(tier.amat_ns, 1)} ns / slowdown ${fmt(tier.slowdown)}`,
        kind: 'observation',
      },
    ];
  },
};
