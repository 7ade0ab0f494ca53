import { SMALL_NODE_KERNEL, twoTierTopology } from '../hosts.js';
import type { Experiment, ExperimentResult } from '../types.js';
import { byLabel, fmt, measuredRate, publishedReport, rel, vm } from './util.js';

const SOURCE = 'Huang Ying, "[PATCH -V10 0/9] Migrate Pages in lieu of discard", LKML 2021-07-15';

/** Every read from disk: swap-ins and page-cache misses (first reads and refaults). */
const diskReads = (r: ExperimentResult): number => r.summary.vmstat.pgmajfault;

export const publishedMigrateOnReclaim: Experiment = {
  name: 'published-migrate-on-reclaim',
  ideas: ['S16'],
  question:
    'PostgreSQL + pgbench on DRAM + PMEM with demotion vs DRAM + disk: does the score rise (+22.1 %) and disk reads fall (−70.8 %) as the series measured?',
  setup:
    'One DRAM node and one CPU-less Optane node. A pgbench-like VM bound to DRAM (as the DRAM-only case): 384 MiB (1.5× DRAM; full scale), three quarters of it database files in the page cache and a quarter anonymous (shared buffers), zipfian θ 0.99 (index and hot rows), 30 % writes, compute_ns 300 between misses (a database does much work per miss; an assumption). Its database is read from disk once, cold, in both cases. DRAM + disk: demotion off, reclaim swaps and drops page cache; DRAM + PMEM: demotion on (5.15). Disk reads = pgmajfault (first reads, refaults and swap-ins).',
  variants(scale) {
    const quick = scale === 'quick';
    const v = (label: string, demotion: boolean) => ({
      label,
      scenario: {
        name: `migrate-on-reclaim-${label}`,
        duration_ms: quick ? 2500 : 6000,
        sample_interval_ms: 50,
        topology: twoTierTopology(quick ? '64MiB' : '256MiB', quick ? '256MiB' : '1GiB'),
        kernel: { ...SMALL_NODE_KERNEL, demotion_enabled: demotion, swap: '2GiB' },
        vms: [
          {
            name: 'pgbench',
            mempolicy: { mode: 'bind', nodes: [0] },
            file_backed: quick ? '72MiB' : '288MiB',
            workload: {
              footprint: quick ? '96MiB' : '384MiB',
              pattern: 'zipfian',
              theta: 0.99,
              write_ratio: 0.3,
              compute_ns: 300,
            },
          },
        ],
      },
    });
    return [v('DRAM + disk', false), v('DRAM + PMEM', true)];
  },
  columns: [
    { header: 'acc/ms', value: (r) => Math.round(measuredRate(r)) },
    { header: 'disk reads', value: diskReads },
    { header: 'refaults', value: (r) => r.summary.vmstat.workingset_refault_file + r.summary.vmstat.pswpin },
    { header: 'pgdemote', value: (r) => r.summary.vmstat.pgdemote_kswapd + r.summary.vmstat.pgdemote_direct },
    { header: 'slowdown', value: (r) => fmt(vm(r).slowdown) },
  ],
  conclusions(results) {
    const disk = byLabel(results, 'DRAM + disk');
    const pmem = byLabel(results, 'DRAM + PMEM');
    return [
      {
        claim: 'demotion replaces re-reads of evicted pages (none left with PMEM)',
        holds:
          pmem.summary.vmstat.workingset_refault_file + pmem.summary.vmstat.pswpin <
          disk.summary.vmstat.workingset_refault_file + disk.summary.vmstat.pswpin,
        detail: `${disk.summary.vmstat.workingset_refault_file + disk.summary.vmstat.pswpin} → ${pmem.summary.vmstat.workingset_refault_file + pmem.summary.vmstat.pswpin}`,
        kind: 'prediction',
      },
      publishedReport(
        'the pgbench score rises (+22.1 %)',
        rel(measuredRate(disk), measuredRate(pmem)),
        0.221,
        SOURCE,
      ),
      publishedReport('disk reads fall (−70.8 %)', rel(diskReads(disk), diskReads(pmem)), -0.708, SOURCE),
    ];
  },
};
