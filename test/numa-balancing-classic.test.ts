import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  type ClassicFaultInput,
  DEFAULT_CPUPID_LAYOUT,
  NUMA_BALANCING_MEMORY_TIERING,
  NUMA_BALANCING_NORMAL,
  NUMA_NO_NODE,
  accessTimeToCpupidField,
  cpuPidToCpupid,
  cpupidLayout,
  cpupidMatchPid,
  cpupidPidUnset,
  cpupidToCpu,
  cpupidToNid,
  cpupidToPid,
  cpupidValid,
  shouldNumaMigrateMemoryClassic,
} from '../src/host/numa-balancing/index.js';

const ce4 = JSON.parse(
  readFileSync(new URL('../../test/fixtures/kernel-ce4-numa-balancing.json', import.meta.url), 'utf8'),
) as {
  two_reference_rule: {
    rows: {
      last: 'unset' | { nid: number; pid: 'same' | 'other' };
      dst_nid: number;
      no_numa_group: boolean;
      early: boolean;
      result: boolean | null;
    }[];
  };
};

// CPUs 0-3 on node 0, 4-7 on node 1.
const CPU_TO_NODE = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1]);
const FIRST_CPU = [0, 4];
const PID = 1234;
const OTHER_PID = 4321;
const UNSET = DEFAULT_CPUPID_LAYOUT.CPUPID_UNSET;

function input(over: Partial<ClassicFaultInput>): ClassicFaultInput {
  return {
    numaBalancingMode: NUMA_BALANCING_NORMAL,
    srcNid: 0,
    srcIsToptier: true,
    dstNid: 1,
    dstHasMemory: true,
    lastCpupid: UNSET,
    nrCpuIds: 8,
    cpuToNode: CPU_TO_NODE,
    pid: PID,
    numaPreferredNid: 1,
    numaScanSeq: 10,
    group: null,
    ...over,
  };
}

test('cpupid packs the cpu above the low 8 pid bits; default layout is 21 bits', () => {
  const c = cpuPidToCpupid(5, 0x1234);
  assert.equal(c, (5 << 8) | 0x34);
  assert.equal(cpupidToCpu(c), 5);
  assert.equal(cpupidToPid(c), 0x34);
  assert.ok(cpupidMatchPid(0x7734, c));
  assert.equal(DEFAULT_CPUPID_LAYOUT.LAST_CPUPID_MASK, 0x1fffff);
  assert.equal(cpupidToCpu(UNSET), 8191);
  assert.ok(cpupidPidUnset(UNSET));
  assert.ok(!cpupidValid(UNSET, 8));
  assert.equal(cpupidToNid(UNSET, CPU_TO_NODE, 8), NUMA_NO_NODE);
  assert.equal(cpupidToNid(cpuPidToCpupid(6, 1), CPU_TO_NODE, 8), 1);
  const l16 = cpupidLayout(8);
  assert.equal(l16.LAST_CPUPID_MASK, 0xffff, 'fits a Uint16Array');
  assert.equal(cpuPidToCpupid(300, 1, l16), ((300 & 0xff) << 8) | 1, 'cpu truncated to NR_CPUS_BITS');
  assert.throws(() => cpupidLayout(0), RangeError);
});

for (const [i, row] of ce4.two_reference_rule.rows.entries()) {
  test(`CE-4 two-reference rule row ${i}: last=${JSON.stringify(row.last)} early=${row.early}`, () => {
    const last =
      row.last === 'unset'
        ? UNSET
        : cpuPidToCpupid(FIRST_CPU[row.last.nid], row.last.pid === 'same' ? PID : OTHER_PID);
    const base = input({
      lastCpupid: last,
      dstNid: row.dst_nid,
      numaScanSeq: row.early ? 3 : 10,
    });
    if (row.result !== null) {
      const group = row.no_numa_group
        ? null
        : { faultsCpuDst: 0, faultsCpuSrc: 100, faultsMemDst: 100, faultsMemSrc: 0 };
      assert.equal(shouldNumaMigrateMemoryClassic({ ...base, group }), row.result);
      return;
    }
    // Decided by the group statistics: 3x rule, then 3/4 hysteresis.
    const g = (faultsCpuDst: number, faultsCpuSrc: number, faultsMemDst: number, faultsMemSrc: number) =>
      shouldNumaMigrateMemoryClassic({
        ...base,
        group: { faultsCpuDst, faultsCpuSrc, faultsMemDst, faultsMemSrc },
      });
    assert.equal(g(31, 10, 1000, 1), true, 'dst has > 3x the CPU faults');
    assert.equal(g(30, 10, 1000, 1), false, 'exactly 3x is not enough, then 30·1·3 <= 10·1000·4');
    assert.equal(g(20, 10, 4, 3), true, '20·3·3 = 180 > 10·4·4 = 160');
    assert.equal(g(20, 10, 5, 3), false, '180 <= 200');
    assert.equal(g(20, 10, 4.5, 3), false, '180 = 180 is not greater');
  });
}

test('early in the task life: no preferred node also counts as early', () => {
  const last = cpuPidToCpupid(FIRST_CPU[0], PID);
  assert.equal(
    shouldNumaMigrateMemoryClassic(input({ lastCpupid: last, numaPreferredNid: NUMA_NO_NODE })),
    true,
  );
  assert.equal(shouldNumaMigrateMemoryClassic(input({ lastCpupid: last, numaScanSeq: 4 })), true);
  assert.equal(shouldNumaMigrateMemoryClassic(input({ lastCpupid: last, numaScanSeq: 5 })), false);
  const other = cpuPidToCpupid(FIRST_CPU[0], OTHER_PID);
  assert.equal(shouldNumaMigrateMemoryClassic(input({ lastCpupid: other, numaScanSeq: 0 })), false);
});

test('a memoryless destination never gets the page', () => {
  assert.equal(shouldNumaMigrateMemoryClassic(input({ dstHasMemory: false, numaScanSeq: 0 })), false);
});

test('tiering switched off: a stale scan time in a slow-tier page is refused', () => {
  // A scan time whose low 8 bits equal the task's pid bits and whose cpu field is 482.
  const stale = accessTimeToCpupidField((482 << 8) | (PID & 0xff));
  assert.ok(!cpupidValid(stale, 8));
  const slow = {
    srcNid: 2,
    srcIsToptier: false,
    lastCpupid: stale,
    numaScanSeq: 0,
    numaPreferredNid: NUMA_NO_NODE,
  };
  assert.equal(shouldNumaMigrateMemoryClassic(input(slow)), false);
  // The same value on a top-tier page, or with tiering on, is read as a cpupid.
  // (early in the task's life, and the pid bits match: migrate).
  assert.equal(shouldNumaMigrateMemoryClassic(input({ ...slow, srcIsToptier: true })), true);
  const tiering = input({
    ...slow,
    numaBalancingMode: NUMA_BALANCING_NORMAL | NUMA_BALANCING_MEMORY_TIERING,
  });
  assert.equal(shouldNumaMigrateMemoryClassic(tiering), true);
});

test('a pid whose low 8 bits are all ones looks like "no previous access" (kernel quirk)', () => {
  const last = cpuPidToCpupid(FIRST_CPU[0], 0x1ff);
  assert.ok(cpupidPidUnset(last));
  // Past the early phase an unset pid skips the node check; no group → migrate.
  assert.equal(shouldNumaMigrateMemoryClassic(input({ lastCpupid: last })), true);
});
