import { SMALL_NODE_KERNEL, twoTierTopology } from '../hosts.js';
import type { Experiment, ExperimentScale } from '../types.js';
import { byLabel, fmt, vm } from './util.js';

/**
 * S13: kernel memory (the dentry cache) cannot move. If it lands in slow memory, every
 * metadata access pays for it. The kernel keeps GFP_KERNEL allocations out of ZONE_MOVABLE,
 * which is how slow memory is usually onlined; `anywhere` is what happens without that.
 */
export const dentryPlacement: Experiment = {
  name: 'dentry-placement',
  ideas: ['S13'],
  question:
    "Where does a metadata-heavy VM's dentry cache live, and what does it cost the VM when it is in slow memory?",
  setup:
    'One DRAM node and one CPU-less PMEM node onlined movable; one VM whose pages fill DRAM first and whose dentry/inode cache then grows; 30 % of its accesses are metadata. The kernel-memory placement varies.',
  variants(scale: ExperimentScale) {
    const quick = scale === 'quick';
    return (['local', 'fast-only', 'anywhere'] as const).map((placement) => ({
      label: placement,
      scenario: {
        name: `dentry-placement-${placement}`,
        duration_ms: quick ? 1500 : 4000,
        sample_interval_ms: 50,
        topology: twoTierTopology(quick ? '64MiB' : '256MiB', quick ? '256MiB' : '1GiB', { zone: 'movable' }),
        kernel: { ...SMALL_NODE_KERNEL, demotion_enabled: true, swap: '1GiB' },
        vms: [
          {
            name: 'files',
            kernel_memory: {
              size: quick ? '24MiB' : '96MiB',
              access_share: 0.3,
              placement,
              grow_ms: quick ? 600 : 1500,
            },
            workload: {
              footprint: quick ? '128MiB' : '512MiB',
              pattern: 'zipfian',
              theta: 0.6,
              write_ratio: 0.1,
              compute_ns: 50,
            },
          },
        ],
      },
    }));
  },
  columns: [
    { header: 'kernel pages on DRAM', value: (r) => vm(r).kernel_memory?.pages_by_node['0'] ?? 0 },
    { header: 'kernel pages on PMEM', value: (r) => vm(r).kernel_memory?.pages_by_node['1'] ?? 0 },
    { header: 'fast hit', value: (r) => fmt(vm(r).fast_tier_hit_ratio) },
    { header: 'AMAT ns', value: (r) => fmt(vm(r).amat_ns, 1) },
    { header: 'slowdown', value: (r) => fmt(vm(r).slowdown) },
  ],
  conclusions(results) {
    const local = vm(byLabel(results, 'local'));
    const anywhere = vm(byLabel(results, 'anywhere'));
    return [
      {
        claim: 'a dentry cache allowed into slow memory ends up there once DRAM is full',
        holds: (anywhere.kernel_memory?.pages_by_node['1'] ?? 0) > 0,
        detail: `${anywhere.kernel_memory?.pages_by_node['1'] ?? 0} kernel pages on PMEM`,
        kind: 'prediction',
      },
      {
        claim: "and the VM pays for it: slowdown above the kernel's own placement",
        holds: anywhere.slowdown > local.slowdown,
        detail: `${fmt(anywhere.slowdown)} vs ${fmt(local.slowdown)}`,
        kind: 'prediction',
      },
    ];
  },
};
