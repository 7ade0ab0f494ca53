import { DRAM_PERF, PMEM_PERF, SMALL_NODE_KERNEL } from '../hosts.js';
import type { Experiment, ExperimentResult, ExperimentScale } from '../types.js';
import { byLabel, fmt } from './util.js';

/**
 * S17: where should reclaim send a page — exactly one target per node, a distance-ordered
 * fallback list, or one-way paths? Two DRAM sockets under pressure beside one PMEM node: a
 * fallback list lets each socket demote into the other, and pages circle.
 */
const cycles = (r: ExperimentResult): number => r.summary.vms.reduce((s, v) => s + v.demotion_cycles, 0);
/** Pages moved by reclaim (to any node: the fallback list moves pages between DRAM sockets too). */
const demoted = (r: ExperimentResult): number =>
  r.summary.vms.reduce(
    (s, v) => s + v.migrations.demote_kswapd + v.migrations.demote_direct + v.migrations.demote_proactive,
    0,
  );
const slowdown = (r: ExperimentResult): number =>
  r.summary.vms.reduce((s, v) => s + v.slowdown, 0) / r.summary.vms.length;

export const demotionOrder: Experiment = {
  name: 'demotion-order',
  ideas: ['S16', 'S17'],
  question:
    'One demotion target vs. a distance-ordered list vs. one-way paths: do pages find a home, or circle?',
  setup:
    'Two DRAM sockets (SLIT 12 between them) and one CPU-less PMEM node (20); one VM bound to each socket with a footprint twice its socket. Demotion on; the demotion-order policy varies.',
  variants(scale: ExperimentScale) {
    const quick = scale === 'quick';
    const dram = quick ? '48MiB' : '128MiB';
    const topology = {
      nodes: [
        { id: 0, cpus: [0, 1], size: dram, ...DRAM_PERF },
        { id: 1, cpus: [2, 3], size: dram, ...DRAM_PERF },
        { id: 2, cpus: [], size: quick ? '512MiB' : '1GiB', ...PMEM_PERF },
      ],
      distance: [
        [10, 12, 20],
        [12, 10, 20],
        [20, 20, 10],
      ],
    };
    const vmOn = (name: string, node: number) => ({
      name,
      cpu_node: node,
      mempolicy: { mode: 'bind', nodes: [node] },
      workload: {
        footprint: quick ? '96MiB' : '256MiB',
        pattern: 'uniform',
        write_ratio: 0.2,
        compute_ns: 30,
      },
    });
    const v = (label: string, tiering: Record<string, unknown>) => ({
      label,
      scenario: {
        name: `demotion-order-${label}`,
        duration_ms: quick ? 1500 : 4000,
        sample_interval_ms: 50,
        topology,
        kernel: { ...SMALL_NODE_KERNEL, demotion_enabled: true, swap: '2GiB' },
        tiering,
        vms: [vmOn('a', 0), vmOn('b', 1)],
      },
    });
    return [
      v('kernel', { demotion_policy: 'kernel' }),
      v('single', { demotion_policy: 'single' }),
      v('distance-list', { demotion_policy: 'distance-list' }),
      v('distance-list+history', { demotion_policy: 'distance-list', demotion_history: true }),
      v('one-way', { demotion_policy: 'one-way', demotion_paths: { 0: [2], 1: [2] } }),
    ];
  },
  columns: [
    { header: 'reclaim migrations', value: demoted },
    { header: 'demotion cycles', value: cycles },
    { header: 'pswpout', value: (r) => r.summary.vmstat.pswpout },
    {
      header: 'pages on PMEM',
      value: (r) => r.summary.vms.reduce((s, v) => s + (v.pages_by_node['2'] ?? 0), 0),
    },
    { header: 'mean slowdown', value: (r) => fmt(slowdown(r)) },
  ],
  conclusions(results) {
    const list = byLabel(results, 'distance-list');
    const hist = byLabel(results, 'distance-list+history');
    const safe = ['kernel', 'single', 'one-way'].map((l) => byLabel(results, l));
    return [
      {
        claim: 'a distance-ordered fallback list lets pages circle between nodes (migration cycles happen)',
        holds: cycles(list) > 0,
        detail: `${cycles(list)} demotions into a node the page had already left`,
        kind: 'prediction',
      },
      {
        claim: "keeping each page's history breaks every cycle",
        holds: cycles(hist) === 0,
        detail: `${cycles(hist)} cycles`,
        kind: 'prediction',
      },
      {
        claim: 'one target per node (kernel, single) and one-way paths never cycle',
        holds: safe.every((r) => cycles(r) === 0),
        detail: safe.map((r) => `${r.label} ${cycles(r)}`).join(', '),
        kind: 'prediction',
      },
      {
        claim:
          'circling costs: the fallback list migrates more pages than the kernel rule for the same pressure',
        holds: demoted(list) > demoted(byLabel(results, 'kernel')),
        applicable: demoted(list) > 0 || demoted(byLabel(results, 'kernel')) > 0,
        detail: `${demoted(list)} vs ${demoted(byLabel(results, 'kernel'))}`,
        kind: 'prediction',
      },
    ];
  },
};
