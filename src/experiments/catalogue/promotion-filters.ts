import { SMALL_NODE_KERNEL, TIME_SCALED_NUMA_BALANCING, twoTierTopology } from '../hosts.js';
import type { Experiment, ExperimentScale } from '../types.js';
import { byLabel, fmt, vm } from './util.js';

/**
 * S19–S21: on a CPU-less slow node every access is remote, so naive NUMA balancing pulls up
 * every page it samples. Which filter tells occasional from frequent use, and what does the
 * rate limit add? Time-scaled kernel settings: a 200 ms scan period (kernel default 1000 ms) so
 * that a few simulated seconds hold many scan periods, and a hot threshold of a quarter of it
 * (the kernel's default equals the scan period, which in seconds-long runs, before its
 * 60-second auto-adjustment ever fires, marks nearly every sampled page hot).
 */
export const promotionFilters: Experiment = {
  name: 'promotion-filters',
  ideas: ['S19', 'S20', 'S21', 'S22'],
  question:
    'Naive promotion from a CPU-less node vs. the two-reference rule vs. the hot threshold, with and without the rate limit: who promotes what, and at what cost?',
  setup:
    'One DRAM node and one CPU-less PMEM node; one VM whose zipfian hot set moves after a warm-up phase (so promotion has work to do). Demotion on, numa_balancing=2; the promotion filter and the rate limit vary.',
  variants(scale: ExperimentScale) {
    const quick = scale === 'quick';
    const topology = twoTierTopology(quick ? '64MiB' : '256MiB', quick ? '256MiB' : '1GiB');
    const footprint = quick ? 200 : 800;
    const rate = quick ? 100 : 400;
    const base = (label: string, kernel: Record<string, unknown>, tiering: Record<string, unknown>) => ({
      label,
      scenario: {
        name: `promotion-filters-${label}`,
        duration_ms: quick ? 2500 : 5000,
        sample_interval_ms: 50,
        topology,
        kernel: {
          ...SMALL_NODE_KERNEL,
          demotion_enabled: true,
          numa_balancing: 2,
          swap: '2GiB',
          ...TIME_SCALED_NUMA_BALANCING,
          ...kernel,
        },
        tiering,
        vms: [
          {
            name: 'app',
            workload: {
              footprint: `${footprint}MiB`,
              pattern: 'phases',
              phases: [
                {
                  accesses: quick ? 2_000_000 : 6_000_000,
                  pattern: 'zipfian',
                  theta: 0.99,
                  footprint: `${footprint / 2}MiB`,
                },
                { accesses: 1e9, pattern: 'zipfian', theta: 0.99 },
              ],
              write_ratio: 0.2,
              compute_ns: 50,
            },
          },
        ],
      },
    });
    const rl = { numa_balancing_promote_rate_limit_MBps: rate };
    return [
      base('no-promotion', { numa_balancing: 0 }, {}),
      base('always', {}, { promotion_filter: 'always' }),
      base('always+rate-limit', rl, { promotion_filter: 'always' }),
      base('two-reference', {}, { promotion_filter: 'two-reference' }),
      base('two-reference+rate-limit', rl, { promotion_filter: 'two-reference' }),
      base('hot-threshold', {}, { promotion_filter: 'hot-threshold' }),
      base('hot-threshold+rate-limit', rl, { promotion_filter: 'hot-threshold' }),
      base('active-lru', {}, { promotion_filter: 'active-lru' }),
      base('hint-fault-count', {}, { promotion_filter: 'hint-fault-count' }),
    ];
  },
  columns: [
    { header: 'promoted', value: (r) => vm(r).promoted_pages },
    { header: 'ping-pong', value: (r) => vm(r).pingpong_pages },
    { header: 'promote MiB/s', value: (r) => fmt(vm(r).promote_mib_per_s, 1) },
    { header: 'hint faults', value: (r) => r.summary.vmstat.numa_hint_faults },
    { header: 'fast hit', value: (r) => fmt(vm(r).fast_tier_hit_ratio) },
    { header: 'AMAT ns', value: (r) => fmt(vm(r).amat_ns, 1) },
    { header: 'slowdown', value: (r) => fmt(vm(r).slowdown) },
    { header: 'thrashing', value: (r) => (vm(r).thrashing ? 'yes' : 'no') },
  ],
  conclusions(results) {
    const always = vm(byLabel(results, 'always'));
    const hot = vm(byLabel(results, 'hot-threshold'));
    const hotRl = vm(byLabel(results, 'hot-threshold+rate-limit'));
    const twoRef = vm(byLabel(results, 'two-reference'));
    const none = vm(byLabel(results, 'no-promotion'));
    return [
      {
        claim: 'naive promotion (always) pulls up more pages than the hot threshold with the rate limit',
        holds: always.promoted_pages > hotRl.promoted_pages,
        applicable: always.promoted_pages > 0 || hotRl.promoted_pages > 0,
        detail: `${always.promoted_pages} vs ${hotRl.promoted_pages} pages (${fmt(always.promoted_pages / Math.max(1, hotRl.promoted_pages), 2)}×)`,
        kind: 'prediction',
      },
      {
        claim: 'naive promotion thrashes: more ping-pong than the hot threshold with the rate limit',
        holds: always.pingpong_pages > hotRl.pingpong_pages,
        applicable: always.pingpong_pages > 0 || hotRl.pingpong_pages > 0,
        detail: `${always.pingpong_pages} vs ${hotRl.pingpong_pages} pages`,
        kind: 'prediction',
      },
      {
        claim:
          'the hot threshold with the rate limit keeps most (≥ 80 %) of the fast-tier hit-ratio gain of naive promotion over no promotion',
        holds:
          hotRl.fast_tier_hit_ratio - none.fast_tier_hit_ratio >=
          0.8 * (always.fast_tier_hit_ratio - none.fast_tier_hit_ratio),
        detail: `hit ratio ${fmt(hotRl.fast_tier_hit_ratio)} vs ${fmt(always.fast_tier_hit_ratio)} (none ${fmt(none.fast_tier_hit_ratio)})`,
        kind: 'prediction',
      },
      {
        claim: 'and costs the VM less: lower slowdown than naive promotion',
        holds: hotRl.slowdown < always.slowdown,
        detail: `${fmt(hotRl.slowdown)} vs ${fmt(always.slowdown)}`,
        kind: 'prediction',
      },
      {
        claim: 'the two-reference rule promotes fewer pages than naive promotion',
        holds: twoRef.promoted_pages < always.promoted_pages,
        applicable: twoRef.promoted_pages > 0 || always.promoted_pages > 0,
        detail: `${twoRef.promoted_pages} vs ${always.promoted_pages} pages`,
        kind: 'prediction',
      },
      {
        claim:
          'promotion (hot threshold) raises the fast-tier hit ratio over no promotion when the hot set moves',
        holds: hot.fast_tier_hit_ratio > none.fast_tier_hit_ratio,
        detail: `${fmt(hot.fast_tier_hit_ratio)} vs ${fmt(none.fast_tier_hit_ratio)}`,
        kind: 'prediction',
      },
    ];
  },
};
