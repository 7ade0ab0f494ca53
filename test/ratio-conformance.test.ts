import { verifyHost } from '../src/host/verify.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RATIO_STRATEGY_REGISTRY, type RatioStrategyModule } from '../src/policies/ratio/index.js';
import { resolveScenario } from '../src/scenario/load.js';
import { runScenario, type RunResult } from '../src/scenario/run.js';
import { scenarioSchema } from '../src/scenario/schema.js';
import { twoTierTopology } from './scenario-support.js';

/**
 * The conformance suite of the ratio strategies, generated from the registry: every registered
 * strategy runs it, so a new one is held to it by being registered. Each strategy passes
 *   - the invariants: after a run that exercises every hook (a ratio lowered mid-run, a tenant's
 *     fast hint, NUMA-balancing promotion through the gate, kswapd demotion) the host's frames,
 *     page tables, LRU lists and counters are consistent (verifyHost()) and no VM was killed;
 *   - determinism: the same scenario and seed give byte-identical summary and time series;
 *   - its own contract (RatioStrategyModule.contract): the achieved fast share of a steady
 *     zipfian VM stays within the stated band of its target, or the module says why not;
 *   - its scenario surface: its option block is `ratio.<id>` exactly when it has parameters,
 *     and another strategy's block is refused under it.
 */

const TARGET = 0.25;

function doc(m: RatioStrategyModule, o: { stress?: boolean; params?: Record<string, unknown> } = {}) {
  const params = o.params ?? {};
  const stress = o.stress === true;
  return {
    seed: 3,
    duration_ms: stress ? 200 : 300,
    sample_interval_ms: 5,
    topology: twoTierTopology({ dram: stress ? '24MiB' : '64MiB', slow: '256MiB', cpus: [0, 1] }),
    kernel: {
      demotion_enabled: true,
      swap: 'none',
      ...(stress
        ? {
            numa_balancing: 2,
            numa_balancing_scan_delay_ms: 10,
            numa_balancing_scan_period_min_ms: 20,
            numa_balancing_hot_threshold_ms: 50,
          }
        : {}),
    },
    cgroups: [
      { path: '/vms' },
      { path: '/vms/a', 'memory.tier_ratio': String(TARGET) },
      ...(stress ? [{ path: '/vms/b', 'memory.tier_ratio': '1:1' }] : []),
    ],
    ratio: {
      strategy: m.id,
      warmup_ms: 100,
      ...(Object.keys(params).length > 0 ? { [m.id]: params } : {}),
    },
    ...(stress ? { schedule: [{ at_ms: 100, cgroup: '/vms/b', set: { 'memory.tier_ratio': '0.2' } }] } : {}),
    vms: [
      {
        name: 'a',
        cgroup: '/vms/a',
        cpu_node: 0,
        workload: { footprint: '32MiB', pattern: 'zipfian', theta: 0.99, compute_ns: 20 },
      },
      ...(stress
        ? [
            {
              name: 'b',
              cgroup: '/vms/b',
              cpu_node: 0,
              workload: { footprint: '24MiB', pattern: 'uniform', compute_ns: 20 },
              madvise: [{ at_ms: 50, range: { from: '0', to: '2MiB' }, advice: 'fast' }],
            },
          ]
        : []),
    ],
  };
}

function run(d: Record<string, unknown>): RunResult {
  return runScenario(resolveScenario(d, process.cwd(), 'test'), 3);
}

function contractParams(m: RatioStrategyModule): Record<string, unknown> {
  return 'params' in m.contract ? (m.contract.params ?? {}) : {};
}

for (const m of RATIO_STRATEGY_REGISTRY.modules()) {
  describe(`ratio strategy ${m.id}: conformance`, () => {
    it('declares itself: a summary, and contract parameters its own schema accepts', () => {
      assert.ok(m.summary.length > 0 && !m.summary.includes('\n'));
      assert.ok(m.params.safeParse(contractParams(m)).success);
      if ('skip' in m.contract) assert.ok(m.contract.skip.length > 0, 'a skipped contract says why');
      else assert.ok(m.contract.why.length > 0 && m.contract.meanError <= m.contract.maxError);
    });

    it('keeps the host consistent with every hook in play (hints, gate, schedule, kswapd)', () => {
      let verified: string | null = 'not run';
      const r = runScenario(
        resolveScenario(doc(m, { stress: true, params: contractParams(m) }), process.cwd(), 'test'),
        3,
        {
          onBuilt: (built) => {
            // Checked mid-run too: a hook that corrupts state shows before the end hides it.
            built.sim.opts.daemons?.push({
              name: 'verify',
              start: () => 150e6,
              run: () => {
                verified = verifyHost(built.host);
                return Infinity;
              },
            });
          },
        },
      );
      assert.equal(verified, null);
      assert.equal(verifyHost(r.run.host), null);
      for (const vm of r.summary.vms) assert.equal(vm.oom_killed, false, vm.name);
      assert.equal(r.summary.ratio?.strategy, m.id);
      assert.ok((r.summary.ratio?.hints?.calls ?? 0) === 1, 'the hint was made');
      // The fast tier was contended: kswapd demoted, and the hooks were asked.
      assert.ok(r.summary.vms.some((v) => v.migrations.demote_kswapd + v.migrations.ratio_exchange > 0));
    });

    it('is deterministic: same scenario and seed, same summary and time series', () => {
      const d = doc(m, { params: contractParams(m) });
      const a = run(d);
      const b = run(d);
      assert.equal(JSON.stringify(a.summary), JSON.stringify(b.summary));
      assert.equal(a.series.toCSV(), b.series.toCSV());
    });

    const c = m.contract;
    if ('skip' in c) {
      it(`holds the ratio: skipped (${c.skip})`, { skip: c.skip }, () => {});
    } else {
      it(`holds the ratio within mean ${c.meanError}, max ${c.maxError} (${c.why})`, () => {
        const vm = run(doc(m, { params: contractParams(m) })).summary.vms[0];
        assert.equal(vm.target_fast_ratio, TARGET);
        assert.ok(vm.rss_pages >= 3 * 2048, 'the footprint exceeds the quota several times');
        const mean = vm.fast_ratio_abs_error_mean as number;
        const max = vm.fast_ratio_abs_error_max as number;
        assert.ok(mean <= c.meanError, `mean error ${mean} > ${c.meanError}`);
        assert.ok(max <= c.maxError, `max error ${max} > ${c.maxError}`);
        assert.ok(Math.abs((vm.achieved_fast_ratio as number) - TARGET) <= c.maxError);
      });
    }

    it('has its option block ratio.<id> exactly when it has parameters; others are refused', () => {
      const ratio = scenarioSchema.shape.ratio.unwrap();
      const hasParams = Object.keys(m.params.shape).length > 0;
      assert.equal(m.id in ratio.shape, hasParams);
      const other = RATIO_STRATEGY_REGISTRY.modules().find(
        (o) => o.id !== m.id && Object.keys(o.params.shape).length > 0,
      );
      if (other === undefined) return;
      const d = doc(m);
      (d.ratio as Record<string, unknown>)[other.id] = {};
      assert.throws(() => resolveScenario(d, process.cwd(), 'test'), {
        message: new RegExp(`^ratio\\.${other.id}: only used by strategy ${other.id}, not ${m.id}`),
      });
    });
  });
}

describe('the ratio registry', () => {
  it('lists every strategy once, with the default registered', () => {
    const ids = RATIO_STRATEGY_REGISTRY.ids();
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.includes(RATIO_STRATEGY_REGISTRY.defaultId));
    assert.deepEqual(scenarioSchema.shape.ratio.unwrap().shape.strategy.unwrap().options, ids);
  });

  it('refuses an unknown strategy with the field and the known ids named', () => {
    const d = doc(RATIO_STRATEGY_REGISTRY.get('charge-retry'));
    (d.ratio as Record<string, unknown>).strategy = 'nope';
    assert.throws(() => resolveScenario(d, process.cwd(), 'test'), /ratio\.strategy/);
  });
});
