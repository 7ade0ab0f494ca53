import { SMALL_NODE_KERNEL, twoTierTopology } from '../hosts.js';
import type { Experiment, ExperimentResult, ExperimentScale } from '../types.js';
import { byLabel, fmt, throughput, vm } from './util.js';

/**
 * S16, "migrate in lieu of discard": reclaim on DRAM either swaps and drops page-cache pages
 * (re-read from disk later) or demotes them to PMEM. Its authors reported pgbench +22 % and
 * disk reads −71 % (LKML, the migrate-on-reclaim series). Here: a database-like VM bound to
 * DRAM (as `numactl -m 0`), half of its footprint a file, larger than DRAM.
 */
/** Disk reads caused by reclaim: swap-ins plus refaults of dropped page-cache pages. */
const rereads = (r: ExperimentResult): number =>
  r.summary.vmstat.pswpin + r.summary.vmstat.workingset_refault_file;

export const demotionVsSwap: Experiment = {
  name: 'demotion-vs-swap',
  ideas: ['S16'],
  question:
    'Demotion instead of swap and page-cache discard, for a workload larger than DRAM: how many disk reads does it save, and what throughput does it buy?',
  setup:
    'One DRAM node and one CPU-less PMEM node; one VM bound to DRAM whose footprint (half anonymous, half a file in the page cache) is 1.5× DRAM. demotion_enabled varies. Disk reads after eviction = swap-ins + page-cache refaults (the first read of the file is the same in both).',
  variants(scale: ExperimentScale) {
    const quick = scale === 'quick';
    const v = (label: string, demotion: boolean) => ({
      label,
      scenario: {
        name: `demotion-vs-swap-${label}`,
        duration_ms: quick ? 2000 : 5000,
        sample_interval_ms: 50,
        topology: twoTierTopology(quick ? '64MiB' : '256MiB', quick ? '256MiB' : '1GiB'),
        kernel: { ...SMALL_NODE_KERNEL, demotion_enabled: demotion, swap: '2GiB' },
        vms: [
          {
            name: 'db',
            mempolicy: { mode: 'bind', nodes: [0] },
            file_backed: quick ? '48MiB' : '192MiB',
            workload: {
              footprint: quick ? '96MiB' : '384MiB',
              pattern: 'zipfian',
              theta: 0.99,
              write_ratio: 0.3,
              compute_ns: 100,
            },
          },
        ],
      },
    });
    return [v('swap', false), v('demotion', true)];
  },
  columns: [
    { header: 'pgmajfault', value: (r) => r.summary.vmstat.pgmajfault },
    { header: 're-reads', value: (r) => rereads(r) },
    { header: 'pgdemote', value: (r) => r.summary.vmstat.pgdemote_kswapd + r.summary.vmstat.pgdemote_direct },
    { header: 'accesses/s', value: (r) => Math.round(throughput(r)) },
    { header: 'slowdown', value: (r) => fmt(vm(r).slowdown) },
  ],
  conclusions(results) {
    const swap = byLabel(results, 'swap');
    const demote = byLabel(results, 'demotion');
    const reads = rereads;
    const cut = 1 - reads(demote) / Math.max(1, reads(swap));
    const gain = throughput(demote) / throughput(swap) - 1;
    return [
      {
        claim: 'demotion cuts disk reads of evicted pages (the authors reported −71 % for pgbench)',
        holds: cut > 0.5,
        applicable: reads(swap) > 0 || reads(demote) > 0,
        // A change relative to no reads at all is no percentage.
        detail: `${reads(swap)} → ${reads(demote)}${reads(swap) > 0 ? ` (${fmt(-cut * 100, 0)} %)` : ''}`,
        kind: 'prediction',
      },
      {
        claim: 'and raises throughput (the authors reported +22 %)',
        holds: gain > 0,
        detail: `${Math.round(throughput(swap))} → ${Math.round(throughput(demote))} accesses/s (${fmt(gain * 100, 0)} %)`,
        kind: 'prediction',
      },
    ];
  },
};
