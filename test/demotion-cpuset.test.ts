import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Summary } from '../src/report/summary.js';
import { resolveScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { twoTierTopology } from './scenario-support.js';

/**
 * Demotion honours the group's cpuset.mems (6.16+: "vmscan,cgroup: apply mems_effective to
 * reclaim"; SPEC §2.1). A VM whose cpuset holds only DRAM must not have its cold pages demoted
 * to the slow node outside it: reclaim swaps them instead. A memory policy is another matter:
 * the same VM bound to DRAM by MPOL_BIND still has its cold pages demoted, as reclaim does not
 * look at memory policies.
 */
function run(vm: Record<string, unknown>, extra: Record<string, unknown>[] = []): Summary {
  const d = {
    seed: 3,
    duration_ms: 300,
    topology: twoTierTopology({ dram: '64MiB', slow: '256MiB' }),
    kernel: { demotion_enabled: true, swap: '256MiB' },
    cgroups: [{ path: '/vms' }, { path: '/vms/a' }, { path: '/vms/b' }],
    vms: [
      {
        name: 'a',
        cgroup: '/vms/a',
        workload: { footprint: '96MiB', pattern: 'zipfian', theta: 0.9, compute_ns: 20 },
        ...vm,
      },
      ...extra,
    ],
  };
  return runScenario(resolveScenario(d, process.cwd(), 'test'), 3).summary;
}

const cg = (s: Summary, path: string) => s.cgroups.find((c) => c.path === path)!;

describe('demotion and cpuset.mems', () => {
  it('a VM whose cpuset is DRAM only is never demoted: its cold pages go to swap', () => {
    const s = run({ cpuset_mems: [0] });
    const vm = s.vms[0];
    assert.ok(vm.accesses > 0);
    assert.equal(s.vmstat.pgdemote_kswapd + s.vmstat.pgdemote_direct, 0, 'no demotion');
    assert.ok(s.vmstat.pswpout > 0, 'reclaim swapped instead');
    assert.equal(vm.pages_by_node['1'] ?? 0, 0, 'no page on the slow node');
  });

  it('bound to DRAM by a memory policy instead, the same VM is demoted and swaps less', () => {
    const pinned = run({ cpuset_mems: [0] });
    const free = run({ mempolicy: { mode: 'bind', nodes: [0] } });
    assert.ok(free.vmstat.pgdemote_kswapd + free.vmstat.pgdemote_direct > 0, 'demotion happens');
    assert.ok((free.vms[0].pages_by_node['1'] ?? 0) > 0, 'pages on the slow node');
    assert.ok(
      free.vmstat.pswpout < pinned.vmstat.pswpout,
      `${free.vmstat.pswpout} vs ${pinned.vmstat.pswpout}`,
    );
  });

  it("the check is per group: a neighbour without a cpuset still demotes, the pinned VM's pages stay", () => {
    const s = run({ cpuset_mems: [0] }, [
      {
        name: 'b',
        cgroup: '/vms/b',
        mempolicy: { mode: 'bind', nodes: [0] },
        workload: { footprint: '96MiB', pattern: 'zipfian', theta: 0.9, compute_ns: 20 },
      },
    ]);
    assert.equal(s.vms[0].pages_by_node['1'] ?? 0, 0, 'a: nothing on the slow node');
    assert.ok((s.vms[1].pages_by_node['1'] ?? 0) > 0, 'b: demoted');
    assert.ok((cg(s, '/vms/b').numa_stat.anon?.N1 ?? 0) > 0, "b's memory.numa_stat shows it");
  });
});
