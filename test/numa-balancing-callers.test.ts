import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NumaTiering } from '../src/host/numa-tiering.js';
import type { Simulation, Task } from '../src/engine/simulation.js';
import {
  DEFAULT_CPUPID_LAYOUT,
  NUMA_BALANCING_DEFAULTS,
  NUMA_BALANCING_MEMORY_TIERING,
  NUMA_BALANCING_NORMAL,
  NUMA_NO_NODE,
  cpuPidToCpupid,
  shouldNumaMigrateMemoryClassic,
} from '../src/host/numa-balancing/index.js';
import { PTE_PFN_MASK } from '../src/host/pte.js';
import { VM } from '../src/host/vmstat.js';
import type { PromotionFilter } from '../src/policies/promotion/types.js';
import { NOT_HOT, PROMOTE } from '../src/policies/promotion/types.js';
import { twoReferenceFilter } from '../src/policies/promotion/two-reference.js';
import { smallHost, touch } from './host-support.js';

/**
 * The two callers of the classic rule (kernel/sched/fair.c should_numa_migrate_memory()):
 * the engine's hint-fault path for top-tier pages, and the two-reference promotion filter.
 * Both keep the page's last_cpupid in the kernel's encoding (include/linux/mm.h
 * cpu_pid_to_cpupid()). The test host has node i's only CPU numbered i.
 */
const UNSET = DEFAULT_CPUPID_LAYOUT.CPUPID_UNSET;

function host3(mode: number, order: number[]) {
  // Nodes 0 and 1: DRAM with a CPU each; node 2: CPU-less slow memory.
  const host = smallHost({
    nodes: [
      { pages: 4096, cpu: true },
      { pages: 4096, cpu: true },
      { pages: 4096, cpu: false },
    ],
    spaces: [
      { pages: 16, order },
      { pages: 16, cpuNode: 1 },
    ],
    numaBalancing: mode,
  });
  touch(host, 0, 0, 16);
  return host;
}

function engine(host: ReturnType<typeof host3>, mode: number, filter: PromotionFilter): NumaTiering {
  return new NumaTiering(host, {
    mode,
    tunables: NUMA_BALANCING_DEFAULTS,
    filter,
    states: NumaTiering.nodeStates(3),
    policies: [
      { mode: 'default', nodes: [] },
      { mode: 'default', nodes: [] },
    ],
    scanPteNs: 0,
  });
}

const twoRef = () =>
  twoReferenceFilter({
    states: NumaTiering.nodeStates(3),
    rateLimitPages: 1e9,
    hotThresholdMs: 1000,
    scanPeriodMaxMs: 60000,
  });

const pfn = (host: ReturnType<typeof host3>, vpn: number): number =>
  host.pt[host.spaces[0].base + vpn] & PTE_PFN_MASK;

test('engine, top-tier page: the kernel rule decides and the page keeps cpu_pid_to_cpupid()', () => {
  const mode = NUMA_BALANCING_NORMAL;
  const host = host3(mode, [1]); // task 0 runs on node 0, its pages sit on DRAM node 1
  const nt = engine(host, mode, twoRef());
  const task = { as: host.spaces[0] } as unknown as Task;
  const sim = null as unknown as Simulation;
  // Page 0: a first fault (last_cpupid unset) migrates at once (early in the task's life).
  const p0 = pfn(host, 0);
  assert.equal(host.frames.stampOf(p0), UNSET);
  nt.hintFault(sim, task, p0);
  const q0 = pfn(host, 0);
  assert.equal(host.frames.nodeOf(q0), 0, 'migrated to the faulting CPU node');
  // The stamp moved with the page (same tier): the task's cpupid, cpu 0 and pid 0.
  assert.equal(host.frames.stampOf(q0), cpuPidToCpupid(0, 0));
  // Page 1 was last faulted by another task (pid 1) from node 1's CPU: the two-reference test
  // refuses (the previous fault came from another node) and stores this task's cpupid.
  const p1 = pfn(host, 1);
  host.frames.setStamp(p1, cpuPidToCpupid(1, 1));
  nt.hintFault(sim, task, p1);
  assert.equal(pfn(host, 1), p1, 'not migrated');
  assert.equal(nt.stats.notHot, 1);
  assert.equal(host.frames.stampOf(p1), cpuPidToCpupid(0, 0));
  // The second fault from node 0 by the same task migrates.
  nt.hintFault(sim, task, p1);
  assert.equal(host.frames.nodeOf(pfn(host, 1)), 0);
  assert.equal(host.vmstat.global(VM.numa_pages_migrated), 2);
});

test('two-reference filter: the kernel encoding, no first-scans exception, first references refused', () => {
  const mode = NUMA_BALANCING_MEMORY_TIERING;
  const host = host3(mode, [2]); // task 0's pages on the slow node 2
  const f = twoRef();
  const fault = (p: number) =>
    f.decide({ host, nowMs: 0, p, src: 2, dst: 0, task: 0, cpupid: cpuPidToCpupid(0, 0) });
  const p = pfn(host, 0);
  // First reference: refused; the field now holds the task's cpupid (kernel encoding).
  assert.equal(fault(p), NOT_HOT);
  assert.equal(host.frames.stampOf(p), cpuPidToCpupid(0, 0));
  // Second reference from the same node: promote.
  assert.equal(fault(p), PROMOTE);
  // A previous fault from node 1's CPU: refused, even by the same task (pid 0): the kernel's
  // early exception would have let a same-pid fault through.
  host.frames.setStamp(p, cpuPidToCpupid(1, 0));
  assert.equal(fault(p), NOT_HOT);
  // The kernel rule itself, early in a task's life, would migrate both refused cases.
  const input = {
    numaBalancingMode: mode,
    srcNid: 2,
    srcIsToptier: false,
    dstNid: 0,
    dstHasMemory: true,
    lastCpupid: UNSET,
    nrCpuIds: host.nrCpuIds,
    cpuToNode: host.cpuToNode,
    pid: 0,
    numaPreferredNid: NUMA_NO_NODE,
    numaScanSeq: 0,
    group: null,
  };
  assert.equal(shouldNumaMigrateMemoryClassic(input), true);
  assert.equal(shouldNumaMigrateMemoryClassic({ ...input, lastCpupid: cpuPidToCpupid(1, 0) }), true);
});

test('two-reference filter with tiering off: the reset cpupid is refused by the kernel rule itself', () => {
  // Rule 2: tiering off, slow-tier page, cpu field of the all-ones value ≥ nr_cpu_ids (2 here).
  const host = host3(NUMA_BALANCING_NORMAL, [2]);
  const input = {
    numaBalancingMode: NUMA_BALANCING_NORMAL,
    srcNid: 2,
    srcIsToptier: false,
    dstNid: 0,
    dstHasMemory: true,
    lastCpupid: UNSET,
    nrCpuIds: host.nrCpuIds,
    cpuToNode: host.cpuToNode,
    pid: 0,
    numaPreferredNid: NUMA_NO_NODE,
    numaScanSeq: 0,
    group: null,
  };
  assert.equal(host.nrCpuIds, 2);
  assert.equal(shouldNumaMigrateMemoryClassic(input), false);
});

test('engine, tiering mode: a promoted page starts on the top tier with last_cpupid reset', () => {
  const mode = NUMA_BALANCING_MEMORY_TIERING | NUMA_BALANCING_NORMAL;
  const host = host3(mode, [2]);
  const nt = engine(host, mode, twoRef());
  const task = { as: host.spaces[0] } as unknown as Task;
  const p = pfn(host, 0);
  nt.hintFault(null as unknown as Simulation, task, p); // first reference: refused
  nt.hintFault(null as unknown as Simulation, task, p); // second: promoted
  const q = pfn(host, 0);
  assert.equal(host.frames.nodeOf(q), 0);
  // folio_migrate_flags(): slow → top tier in tiering mode resets the field.
  assert.equal(host.frames.stampOf(q), UNSET);
});
