import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Summary } from '../src/report/summary.js';
import { resolveScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { twoTierTopology } from './scenario-support.js';

/**
 * Idea S7, the precedence of docs/ratios.md: cpuset.mems, then a bind policy, then the
 * administrator's ratio, then the tenant's hints, then the kernel's own migration. Hints versus
 * the ratio and the kernel are covered in madvise-hints.test.ts, promotion versus the ratio in
 * ratio-strategies.test.ts.
 */

function doc(
  vm: Record<string, unknown>,
  strategy: string,
  extraVms: Record<string, unknown>[] = [],
): Record<string, unknown> {
  return {
    seed: 4,
    duration_ms: 150,
    sample_interval_ms: 5,
    topology: twoTierTopology({ dram: '64MiB', slow: '256MiB' }),
    kernel: { demotion_enabled: true, swap: 'none' },
    cgroups: [
      { path: '/vms' },
      { path: '/vms/a', 'memory.tier_ratio': '0.25' },
      { path: '/vms/b', 'memory.tier_ratio': '0.25' },
    ],
    ratio: {
      strategy,
      warmup_ms: 50,
      ...(strategy === 'rebalance' ? { rebalance: { period_ms: 20 } } : {}),
      ...(strategy === 'userspace' ? { userspace: { period_ms: 20 } } : {}),
    },
    vms: [
      {
        name: 'a',
        cgroup: '/vms/a',
        workload: { footprint: '16MiB', pattern: 'zipfian', theta: 0.99, compute_ns: 20 },
        ...vm,
      },
      ...extraVms,
    ],
  };
}

const run = (d: Record<string, unknown>): Summary =>
  runScenario(resolveScenario(d, process.cwd(), 'test'), 4).summary;
const STRATEGIES = ['charge-retry', 'rebalance', 'weighted-random', 'interleave', 'userspace'];

describe('precedence', () => {
  for (const strategy of STRATEGIES) {
    it(`${strategy}: a bind policy to the fast node wins over the ratio (no OOM, the violation is reported)`, () => {
      const s = run(doc({ mempolicy: { mode: 'bind', nodes: [0] } }, strategy));
      const a = s.vms[0];
      assert.equal(a.oom_killed, false);
      assert.equal(a.fast_share, 1);
      assert.equal(a.ratio_migrations, 0);
      assert.equal(a.target_fast_ratio, 0.25);
      assert.ok((a.fast_ratio_abs_error_mean as number) > 0.7, 'the ratio is visibly not met');
    });

    it(`${strategy}: cpuset.mems on the slow node wins over everything`, () => {
      const s = run(doc({ cpuset_mems: [1] }, strategy));
      assert.equal(s.vms[0].pages_by_node['0'], 0);
      assert.equal(s.vms[0].oom_killed, false);
    });
  }

  it('a bind mask with both tiers: the ratio applies inside it', () => {
    const s = run(doc({ mempolicy: { mode: 'bind', nodes: [0, 1] } }, 'charge-retry'));
    assert.ok((s.vms[0].fast_ratio_abs_error_max as number) <= 0.005);
  });

  it("interleave: a VM's explicit policy is kept; a default-policy VM gets the ratio's weights", () => {
    const s = run(
      doc({ mempolicy: { mode: 'preferred', nodes: [1] } }, 'interleave', [
        {
          name: 'b',
          cgroup: '/vms/b',
          workload: { footprint: '16MiB', pattern: 'zipfian', theta: 0.99, compute_ns: 20 },
        },
      ]),
    );
    assert.equal(s.vms[0].pages_by_node['0'], 0, 'preferred node 1 had room for every page');
    assert.ok(Math.abs(s.vms[1].fast_share - 0.25) <= 0.005, `b: ${s.vms[1].fast_share}`);
  });
});
