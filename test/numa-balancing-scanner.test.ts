import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Task } from '../src/engine/simulation.js';
import { NumaTiering } from '../src/host/numa-tiering.js';
import { NUMA_BALANCING_DEFAULTS } from '../src/host/numa-balancing/constants.js';
import { PTE_PFN_MASK, PTE_PROTNONE } from '../src/host/pte.js';
import { VM } from '../src/host/vmstat.js';
import { hotThresholdFilter } from '../src/policies/promotion/hot-threshold.js';
import { smallHost, touch } from './host-support.js';

/**
 * task_numa_work()'s budget as the kernel spends it (kernel/sched/fair.c): `pages` goes down by
 * a whole range's length when change_prot_numa() updated at least one PTE in it, `virtpages`
 * (8 × pages) by every range's length, ranges end on a 2 MB (512-page) boundary, and a pass
 * that reaches the end of the address space resets the offset to 0 instead of wrapping.
 * With scan_size 1 MB: pages = 256, virtpages = 2048.
 */
function scannerHost() {
  const host = smallHost({
    nodes: [
      { pages: 1024, cpu: true },
      { pages: 8192, cpu: false },
    ],
    spaces: [{ pages: 6000, order: [1] }], // everything on the CPU-less slow node
    numaBalancing: 2,
  });
  touch(host, 0, 0, 6000);
  const nt = new NumaTiering(host, {
    mode: 2,
    tunables: { ...NUMA_BALANCING_DEFAULTS, scan_size: 1 },
    filter: hotThresholdFilter({
      states: NumaTiering.nodeStates(2),
      rateLimitPages: 1e9,
      hotThresholdMs: 1000,
      scanPeriodMaxMs: 60000,
    }),
    states: NumaTiering.nodeStates(2),
    policies: [{ mode: 'default', nodes: [] }],
    scanPteNs: 0,
  });
  const task = { as: host.spaces[0] } as unknown as Task;
  const marked = (from: number, to: number): number => {
    let n = 0;
    for (let v = from; v < to; v++) if ((host.pt[host.spaces[0].base + v] & PTE_PROTNONE) !== 0) n++;
    return n;
  };
  return { host, nt, task, marked };
}

test('scanner: a range with an update spends the whole scan_size, rounded up to 2 MB', () => {
  const { host, nt, task, marked } = scannerHost();
  const state = { offset: 0 };
  // [0, 512): ALIGN(0 + 256 pages, 2 MB). Every page in it is marked, not just 256.
  assert.equal(nt.scanOnce(task, 1234, state), 512);
  assert.equal(state.offset, 512);
  assert.equal(marked(0, 512), 512);
  assert.equal(marked(512, 6000), 0);
  // Slow-tier pages carry their scan time (hot-threshold records it).
  const p = host.pt[host.spaces[0].base + 7] & PTE_PFN_MASK;
  assert.equal(host.frames.stampOf(p), 1234);
  // The next pass continues where this one stopped.
  assert.equal(nt.scanOnce(task, 1300, state), 512);
  assert.equal(state.offset, 1024);
  assert.equal(host.vmstat.global(VM.numa_pte_updates), 1024);
});

test('scanner: ranges with nothing to mark are skipped up to virtpages', () => {
  const { host, nt, task, marked } = scannerHost();
  const base = host.spaces[0].base;
  for (let v = 0; v < 3072; v++) host.pt[base + v] |= PTE_PROTNONE; // already marked
  const state = { offset: 0 };
  // Four empty 512-page ranges use up virtpages = 2048: the pass ends at 2048, marking nothing.
  assert.equal(nt.scanOnce(task, 0, state), 0);
  assert.equal(state.offset, 2048);
  // The next pass skips [2048, 3072) and marks the first range with work, [3072, 3584).
  assert.equal(nt.scanOnce(task, 0, state), 512);
  assert.equal(state.offset, 3584);
  assert.equal(marked(3072, 3584), 512);
  assert.equal(marked(3584, 6000), 0);
});

test('scanner: the end of the address space ends the pass and resets the offset', () => {
  const { nt, task, marked } = scannerHost();
  const state = { offset: 5888 };
  // [5888, 6000) is shorter than the budget; the pass does not wrap around to page 0.
  assert.equal(nt.scanOnce(task, 0, state), 112);
  assert.equal(state.offset, 0);
  assert.equal(marked(0, 5888), 0);
  assert.equal(nt.scanOnce(task, 0, state), 512);
  assert.equal(marked(0, 512), 512);
});
