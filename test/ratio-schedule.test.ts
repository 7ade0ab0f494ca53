import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { twoTierTopology } from './scenario-support.js';

/**
 * An administrator changes memory.tier_ratio mid-run (a scheduled write, as `echo 0.2 >
 * memory.tier_ratio` at 150 ms). Strategies that migrate reach the new ratio within a stated
 * time: rebalance lowers the share within two periods; the user-space controller raises it
 * within five periods (bandwidth-capped); allocation-time strategies only bound new faults.
 */

const AT = 150;
const PERIOD = 20;

function doc(
  strategy: string,
  from: string,
  to: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    seed: 5,
    duration_ms: 300,
    sample_interval_ms: 5,
    topology: twoTierTopology({ dram: '64MiB', slow: '256MiB' }),
    kernel: { demotion_enabled: true, swap: 'none' },
    cgroups: [{ path: '/vms' }, { path: '/vms/a', 'memory.tier_ratio': from }],
    ratio: { strategy, warmup_ms: 50, ...extra },
    schedule: [{ at_ms: AT, cgroup: '/vms/a', set: { 'memory.tier_ratio': to } }],
    vms: [
      {
        name: 'a',
        cgroup: '/vms/a',
        workload: { footprint: '32MiB', pattern: 'zipfian', theta: 0.99, compute_ns: 20 },
      },
    ],
  };
}

function series(d: Record<string, unknown>): { t: number; target: number; achieved: number }[] {
  const r = runScenario(resolveScenario(d, process.cwd(), 'test'), 5);
  const cols = r.series.columns;
  const [ti, gi, ai] = ['time_ms', 'vm_a_target_fast_ratio', 'vm_a_achieved_fast_ratio'].map((c) =>
    cols.indexOf(c),
  );
  assert.ok(gi > 0 && ai > 0, 'the time series has target and achieved columns');
  return r.series.rows.map((row) => ({ t: row[ti], target: row[gi], achieved: row[ai] }));
}

describe('a ratio changed mid-run', () => {
  it('is visible as the target at the scheduled time', () => {
    const s = series(doc('charge-retry', '0.5', '1:4'));
    for (const p of s) assert.equal(p.target, p.t < AT ? 0.5 : 0.2, `target at ${p.t} ms`);
  });

  it(`rebalance reaches a lowered ratio within 2 periods (${2 * PERIOD} ms)`, () => {
    const s = series(doc('rebalance', '0.5', '0.2', { rebalance: { period_ms: PERIOD } }));
    const before = s.filter((p) => p.t >= 100 && p.t < AT);
    assert.ok(
      before.every((p) => Math.abs(p.achieved - 0.5) <= 0.02),
      'held 0.5 before the change',
    );
    const after = s.filter((p) => p.t >= AT + 2 * PERIOD);
    assert.ok(after.length > 10);
    for (const p of after) assert.ok(Math.abs(p.achieved - 0.2) <= 0.01, `${p.achieved} at ${p.t} ms`);
  });

  it(`userspace reaches a raised ratio within 5 periods (${5 * PERIOD} ms)`, () => {
    const s = series(
      doc('userspace', '0.2', '0.5', { userspace: { period_ms: PERIOD, bandwidth_MBps: 512 } }),
    );
    const just = s.find((p) => p.t >= AT && p.t < AT + PERIOD / 2);
    assert.ok(just !== undefined && just.achieved < 0.3, 'not instantly');
    const after = s.filter((p) => p.t >= AT + 5 * PERIOD);
    assert.ok(after.length > 5);
    for (const p of after) assert.ok(Math.abs(p.achieved - 0.5) <= 0.02, `${p.achieved} at ${p.t} ms`);
  });

  it('charge-retry does not migrate: a lowered ratio only stops new fast allocations', () => {
    const s = series(doc('charge-retry', '0.5', '0.2'));
    const end = s[s.length - 1];
    assert.ok(end.achieved > 0.4, `still ${end.achieved}: nothing was demoted`);
  });
});
