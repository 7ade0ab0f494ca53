import { SMALL_NODE_KERNEL, twoTierTopology } from '../hosts.js';
import type { Experiment, ExperimentResult, ExperimentScale } from '../types.js';
import { fmt } from './util.js';

/**
 * S9–S12 (and S6): three proposals of the 2019 session, plus weighted interleave and a
 * user-space controller, all holding the same memory.tier_ratio of two VMs — one steady, one
 * whose hot set changes — on the same host, workload and seed.
 */
const STRATEGIES = ['charge-retry', 'rebalance', 'weighted-random', 'interleave', 'userspace'] as const;

type VmOf = ExperimentResult['summary']['vms'][number] & {
  fast_ratio_abs_error_mean?: number | null;
  ratio_migrations?: number;
  achieved_fast_ratio?: number | null;
};
const vms = (r: ExperimentResult): VmOf[] => r.summary.vms as VmOf[];
const meanErr = (r: ExperimentResult): number =>
  Math.max(...vms(r).map((v) => v.fast_ratio_abs_error_mean ?? 1));
const migrations = (r: ExperimentResult): number => vms(r).reduce((s, v) => s + (v.ratio_migrations ?? 0), 0);
const slowdown = (r: ExperimentResult, i: number): number => vms(r)[i].slowdown;

export const ratioStrategies: Experiment = {
  name: 'ratio-strategies',
  ideas: ['S2', 'S4', 'S6', 'S8', 'S9', 'S10', 'S11', 'S12'],
  question:
    "Charge-and-retry, rebalancing by demotion, weighted-random allocation, weighted interleave and a user-space controller: how well does each hold a VM's fast:slow ratio, and what does it cost?",
  setup:
    'One DRAM node and one CPU-less PMEM node with room for both VMs; each VM in its own cgroup with memory.tier_ratio 1:3 (25 % fast). "steady" runs a zipfian workload; "phased" switches from a uniform scan to a skewed one half-way. Demotion on, NUMA balancing off, so that only the strategy moves pages (the user-space controller promotes as well as demotes).',
  variants(scale: ExperimentScale) {
    const quick = scale === 'quick';
    const mib = (x: number) => `${quick ? x : x * 4}MiB`;
    return STRATEGIES.map((strategy) => ({
      label: strategy,
      scenario: {
        name: `ratio-${strategy}`,
        duration_ms: quick ? 2000 : 5000,
        sample_interval_ms: 20,
        topology: twoTierTopology(mib(128), mib(256)),
        kernel: {
          ...SMALL_NODE_KERNEL,
          demotion_enabled: true,
          numa_balancing: 0,
          swap: '2GiB',
        },
        ratio: { strategy, promotion: 'exchange' },
        cgroups: [
          { path: '/vms' },
          { path: '/vms/steady', 'memory.tier_ratio': '1:3' },
          { path: '/vms/phased', 'memory.tier_ratio': '1:3' },
        ],
        vms: [
          {
            name: 'steady',
            cgroup: '/vms/steady',
            workload: {
              footprint: mib(96),
              pattern: 'zipfian',
              theta: 0.9,
              write_ratio: 0.2,
              compute_ns: 50,
            },
          },
          {
            name: 'phased',
            cgroup: '/vms/phased',
            workload: {
              footprint: mib(96),
              pattern: 'phases',
              phases: [
                { accesses: quick ? 4_000_000 : 12_000_000, pattern: 'uniform' },
                { accesses: 1e9, pattern: 'zipfian', theta: 0.99 },
              ],
              write_ratio: 0.2,
              compute_ns: 50,
            },
          },
        ],
      },
    }));
  },
  columns: [
    { header: 'steady achieved', value: (r) => fmt(vms(r)[0].achieved_fast_ratio ?? NaN) },
    { header: 'phased achieved', value: (r) => fmt(vms(r)[1].achieved_fast_ratio ?? NaN) },
    { header: 'max mean |error|', value: (r) => fmt(meanErr(r)) },
    { header: 'ratio migrations', value: migrations },
    { header: 'steady slowdown', value: (r) => fmt(slowdown(r, 0)) },
    { header: 'phased slowdown', value: (r) => fmt(slowdown(r, 1)) },
    { header: 'steady fast hit', value: (r) => fmt(vms(r)[0].fast_tier_hit_ratio) },
  ],
  conclusions(results) {
    const by = (l: string) => results.find((r) => r.label === l) as ExperimentResult;
    const tolerance = 0.05;
    const inKernel = results.filter((r) => r.label !== 'userspace');
    const user = by('userspace');
    const best = [...results].sort(
      (a, b) => vms(b)[0].fast_tier_hit_ratio - vms(a)[0].fast_tier_hit_ratio,
    )[0];
    return [
      {
        claim: `every in-kernel strategy holds the 25 % fast share within ${tolerance} (mean absolute error after warm-up)`,
        holds: inKernel.every((r) => meanErr(r) <= tolerance),
        detail: inKernel.map((r) => `${r.label} ${fmt(meanErr(r))}`).join(', '),
        kind: 'prediction',
      },
      {
        claim:
          'charge-and-retry places pages right at allocation: it needs fewer ratio migrations than rebalancing',
        holds: migrations(by('charge-retry')) < migrations(by('rebalance')),
        detail: `${migrations(by('charge-retry'))} vs ${migrations(by('rebalance'))}`,
        kind: 'prediction',
      },
      {
        claim: `the user-space controller, bounded by its period and bandwidth cap, holds the ratio within ${tolerance}`,
        holds: meanErr(user) <= tolerance,
        detail: `mean |error| ${fmt(meanErr(user))} with ${migrations(user)} migrations`,
        kind: 'observation',
      },
      {
        claim: `${best.label} gives the steady VM the best fast-tier hit ratio`,
        holds: true,
        detail: results.map((r) => `${r.label} ${fmt(vms(r)[0].fast_tier_hit_ratio)}`).join(', '),
        kind: 'observation',
      },
    ];
  },
};
