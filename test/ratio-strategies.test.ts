import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VmSummary, Summary } from '../src/report/summary.js';
import type { TimeSeries } from '../src/report/timeseries.js';
import { resolveScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { twoTierTopology } from './scenario-support.js';

/**
 * Every enforcement strategy on the same steady workload: a zipfian VM of 32 MiB whose group
 * may keep a quarter of it fast, on a host whose 64 MiB of DRAM is not the bottleneck (the VM
 * would fit in it whole). Tolerances are stated per strategy, as in docs/ratios.md.
 */

function ratioDoc(o: {
  ratio?: Record<string, unknown>;
  tierRatio?: string;
  kernel?: Record<string, unknown>;
  schedule?: unknown[];
  vm?: Record<string, unknown>;
  duration_ms?: number;
}): Record<string, unknown> {
  return {
    seed: 3,
    duration_ms: o.duration_ms ?? 300,
    sample_interval_ms: 5,
    topology: twoTierTopology({ dram: '64MiB', slow: '256MiB', cpus: [0, 1] }),
    kernel: { demotion_enabled: true, swap: 'none', ...o.kernel },
    cgroups: [{ path: '/vms' }, { path: '/vms/a', 'memory.tier_ratio': o.tierRatio ?? '0.25' }],
    ratio: { warmup_ms: 100, ...o.ratio },
    ...(o.schedule ? { schedule: o.schedule } : {}),
    vms: [
      {
        name: 'a',
        cgroup: '/vms/a',
        cpu_node: 0,
        workload: { footprint: '32MiB', pattern: 'zipfian', theta: 0.99, compute_ns: 20 },
        ...o.vm,
      },
    ],
  };
}

function run(doc: Record<string, unknown>): { summary: Summary; series: TimeSeries; vm: VmSummary } {
  const r = runScenario(resolveScenario(doc, process.cwd(), 'test'), 3);
  return { summary: r.summary, series: r.series, vm: r.summary.vms[0] };
}

/** Strategy → (mean, max) tolerance on |achieved − target| after the warm-up. */
const TOLERANCE: Record<string, [number, number]> = {
  'charge-retry': [0.002, 0.005], // exact at every fault, up to the rounding of one page
  interleave: [0.005, 0.01], // exact over every 4 consecutive pages of the interleave
  'weighted-random': [0.03, 0.05], // binomial: √(r(1−r)/N) ≈ 0.005 for N = 8192 pages
  rebalance: [0.01, 0.05], // drifts up by new faults between 20 ms passes
  userspace: [0.01, 0.05], // as rebalance, plus the bandwidth cap
};

const options: Record<string, Record<string, unknown>> = {
  rebalance: { rebalance: { period_ms: 20 } },
  userspace: { userspace: { period_ms: 20 } },
};

describe('each strategy holds the ratio on a steady workload', () => {
  const results: Record<string, VmSummary> = {};
  const summaries: Record<string, Summary> = {};
  for (const [strategy, [mean, max]] of Object.entries(TOLERANCE)) {
    it(`${strategy}: mean |error| ≤ ${mean}, max ≤ ${max}`, () => {
      const { vm, summary } = run(ratioDoc({ ratio: { strategy, ...options[strategy] } }));
      results[strategy] = vm;
      summaries[strategy] = summary;
      assert.equal(vm.target_fast_ratio, 0.25);
      assert.ok(vm.rss_pages >= 3 * 2048, 'the footprint exceeds the quota (2048 pages) several times');
      assert.ok(
        (vm.fast_ratio_abs_error_mean as number) <= mean,
        `mean error ${vm.fast_ratio_abs_error_mean}`,
      );
      assert.ok((vm.fast_ratio_abs_error_max as number) <= max, `max error ${vm.fast_ratio_abs_error_max}`);
      assert.ok(Math.abs((vm.achieved_fast_ratio as number) - 0.25) <= max);
      assert.equal(vm.oom_killed, false);
    });
  }

  it('the summary shows how they differ: migrations and the cost the VM pays', () => {
    const m = (s: string): number => results[s].ratio_migrations as number;
    // Allocation-time strategies never move a page to hold the ratio; the others do.
    assert.equal(m('charge-retry'), 0);
    assert.equal(m('interleave'), 0);
    assert.equal(m('weighted-random'), 0);
    assert.ok(m('rebalance') > 1000, `rebalance moved ${m('rebalance')}`);
    assert.ok(m('userspace') > 1000, `userspace moved ${m('userspace')}`);
    assert.equal(results.rebalance.migrations.ratio_rebalance, m('rebalance'));
    assert.equal(results.userspace.migrations.userspace, m('userspace'));
    // Rebalancing is kernel work the group's VM pays for; the user-space controller's moves are not.
    assert.ok(results.rebalance.kernel_ns_per_access > results['charge-retry'].kernel_ns_per_access);
    assert.ok((summaries.rebalance.ratio?.enforcement_charged_ms ?? 0) > 0);
    assert.equal(summaries.userspace.ratio?.enforcement_charged_ms, 0);
    assert.ok((summaries.userspace.ratio?.userspace?.periods ?? 0) >= 10);
    // Idle tracking finds the hot pages that first-touch placement left on the slow tier.
    assert.ok(results.userspace.fast_tier_hit_ratio > results['charge-retry'].fast_tier_hit_ratio + 0.05);
  });
});

describe('promotion at the quota', () => {
  const numa = {
    numa_balancing: 2,
    numa_balancing_scan_delay_ms: 10,
    numa_balancing_scan_period_min_ms: 20,
    numa_balancing_hot_threshold_ms: 50,
  };

  it('exchange: hot pages come up, colder ones go down, the quota holds', () => {
    const { vm, summary } = run(
      ratioDoc({ kernel: numa, ratio: { strategy: 'charge-retry', promotion: 'exchange' } }),
    );
    assert.ok(vm.migrations.promote_hint_fault > 100);
    assert.ok(
      vm.migrations.ratio_exchange >= 0.9 * vm.migrations.promote_hint_fault,
      'promotions at the quota were paid for by demotions',
    );
    assert.ok((summary.ratio?.exchanges ?? 0) > 0);
    assert.ok((vm.fast_ratio_abs_error_max as number) <= 0.01, `max error ${vm.fast_ratio_abs_error_max}`);
    const refused = run(ratioDoc({ kernel: numa, ratio: { strategy: 'charge-retry', promotion: 'refuse' } }));
    assert.ok(
      vm.fast_tier_hit_ratio > refused.vm.fast_tier_hit_ratio + 0.1,
      'exchanging puts hot pages in the quota',
    );
  });

  it('refuse: no promotion past the quota, and no exchange', () => {
    const { vm, summary } = run(
      ratioDoc({ kernel: numa, ratio: { strategy: 'charge-retry', promotion: 'refuse' } }),
    );
    assert.equal(vm.migrations.ratio_exchange, 0);
    assert.equal(summary.ratio?.exchanges, 0);
    assert.ok((summary.ratio?.refused_promotions ?? 0) > 100);
    assert.ok((vm.fast_ratio_abs_error_max as number) <= 0.005);
  });
});

describe('determinism', () => {
  it('the same scenario and seed give the same summary and time series, randomness included', () => {
    const d = ratioDoc({ ratio: { strategy: 'weighted-random' }, duration_ms: 150 });
    const a = run(d);
    const b = run(d);
    assert.equal(JSON.stringify(a.summary), JSON.stringify(b.summary));
    assert.equal(a.series.toCSV(), b.series.toCSV());
    const other = runScenario(resolveScenario(d, process.cwd(), 'test'), 4).summary.vms[0];
    assert.notDeepEqual(other.hits_by_node, a.vm.hits_by_node, 'another seed, another run');
  });
});
