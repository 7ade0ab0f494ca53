import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyModel } from '../src/engine/cost-model.js';
import { NumaTiering } from '../src/host/numa-tiering.js';
import { Simulation } from '../src/engine/simulation.js';
import { buildPlacement } from '../src/host/mempolicy-placement.js';
import { NUMA_BALANCING_DEFAULTS } from '../src/host/numa-balancing/constants.js';
import { PTE_PFN_MASK, PTE_PROTNONE } from '../src/host/pte.js';
import { VM, VMSTAT_ITEMS, zoneItem } from '../src/host/vmstat.js';
import { alwaysFilter } from '../src/policies/promotion/always.js';
import type { AccessStream } from '../src/workloads/types.js';
import { smallHost, touch } from './host-support.js';

/**
 * The counters as the kernel's code paths count them (sources: torvalds/linux mm/memory.c
 * handle_mm_fault() and mm_account_fault(); mm/mempolicy.c alloc_pages_mpol(); mm/page_alloc.c
 * rmqueue() and zone_statistics(); mm/vmscan.c do_try_to_free_pages(); include/linux/gfp.h
 * gfp_zone(); include/linux/vm_event_item.h FOR_ALL_ZONES; mm/vmstat.c vmstat_text).
 */

test('vmstat names: only /proc/vmstat names, per-zone events split by zone', () => {
  for (const gone of ['pgalloc', 'allocstall', 'kswapd_wakeup'])
    assert.ok(!(VMSTAT_ITEMS as readonly string[]).includes(gone), `${gone} is not a /proc/vmstat name`);
  // FOR_ALL_ZONES(x): the _movable entry follows the _normal one (no highmem on x86-64).
  assert.equal(VM.pgalloc_movable, VM.pgalloc_normal + 1);
  assert.equal(VM.allocstall_movable, VM.allocstall_normal + 1);
  assert.equal(zoneItem(VM.pgalloc_normal, true), VM.pgalloc_movable);
  assert.equal(zoneItem(VM.allocstall_normal, false), VM.allocstall_normal);
  // NUMA_INTERLEAVE_HIT prints as numa_interleave.
  assert.ok((VMSTAT_ITEMS as readonly string[]).includes('numa_interleave'));
});

/** A stream that plays a fixed list of virtual pages (reads), then ends. */
function scripted(vpns: number[], footprintPages: number): AccessStream {
  let i = 0;
  return {
    footprintPages,
    computeNsPerAccess: 0,
    phase: 'scripted',
    fill(buf, max) {
      let n = 0;
      while (n < max && i < vpns.length) buf[n++] = vpns[i++] << 1;
      return n;
    },
    close() {},
  };
}

test('pgfault: a NUMA hint fault is one page fault (handle_mm_fault → do_numa_page → mm_account_fault)', () => {
  // One DRAM node with a CPU, one CPU-less slow node holding the task's 8 pages.
  const host = smallHost({
    nodes: [
      { pages: 4096, cpu: true },
      { pages: 4096, cpu: false },
    ],
    spaces: [{ pages: 8, order: [1] }],
    numaBalancing: 2,
  });
  touch(host, 0, 0, 8);
  assert.equal(host.vmstat.global(VM.pgfault), 8, 'eight missing-page faults');
  const nt = new NumaTiering(host, {
    mode: 2,
    tunables: NUMA_BALANCING_DEFAULTS,
    filter: alwaysFilter({
      states: NumaTiering.nodeStates(2),
      rateLimitPages: 1e9,
      hotThresholdMs: 1000,
      scanPeriodMaxMs: 60000,
    }),
    states: NumaTiering.nodeStates(2),
    policies: [{ mode: 'default', nodes: [] }],
    scanPteNs: 0,
  });
  // Mark pages 2 and 5 PROT_NONE, as change_prot_numa() would.
  const base = host.spaces[0].base;
  host.pt[base + 2] |= PTE_PROTNONE;
  host.pt[base + 5] |= PTE_PROTNONE;
  const sim = new Simulation(
    host,
    new LatencyModel(host.topo),
    [{ as: host.spaces[0], stream: scripted([2, 2, 3, 5, 5, 5], 8), mlp: 1, startNs: 0 }],
    { durationNs: 1e9, sampleIntervalNs: 1e9, epochNs: 1e6, hintFaults: nt },
  );
  sim.runUntil(1e9);
  // Two hint faults (the first access to each marked page; the others find the PTE restored),
  // no missing-page fault: pgfault + 2, pgmajfault unchanged (not VM_FAULT_MAJOR).
  assert.equal(host.vmstat.global(VM.numa_hint_faults), 2);
  assert.equal(host.vmstat.global(VM.pgfault), 8 + 2);
  assert.equal(host.vmstat.global(VM.pgmajfault), 0);
  // PGFAULT is a per-CPU event: on the task's CPU node, not on the page's node.
  assert.equal(host.vmstat.node(0, VM.pgfault), 10);
  assert.equal(host.vmstat.node(1, VM.pgfault), 0);
});

/**
 * Three nodes: 0 (CPU, ZONE_NORMAL), 1 (CPU-less, ZONE_NORMAL), 2 (CPU-less, ZONE_MOVABLE);
 * a weighted interleave over 0,1,2 with weights 2:1:1, so weighted_interleave_nid() maps
 * ilx mod 4 = 0,1 → node 0, 2 → node 1, 3 → node 2.
 */
function interleaveHost(node2Pages: number) {
  const host = smallHost({
    nodes: [
      { pages: 32768, cpu: true, wmarks: [16, 32, 48, 64] },
      { pages: 8192, cpu: false, wmarks: [16, 32, 48, 64] },
      { pages: node2Pages, cpu: false, wmarks: [16, 32, 48, 64], movable: true },
    ],
    spaces: [{ pages: 16384 }],
  });
  const zonelists = host.topo.nodes.map((n) => Int32Array.from(n.zonelist));
  host.spaces[0].placement = buildPlacement(
    { mode: 'weighted_interleave', nodes: [0, 1, 2] },
    0,
    zonelists,
    [2, 1, 1],
  );
  return host;
}

test('numa_interleave: a 2:1:1 weighted interleave counts NUMA_INTERLEAVE_HIT on each chosen node', () => {
  const host = interleaveHost(8192);
  touch(host, 0, 0, 16384);
  const v = host.vmstat;
  // 16384 faults, ilx = vpn: 8192 / 4096 / 4096 pages, every one on the node chosen for it.
  assert.deepEqual(
    [0, 1, 2].map((n) => host.spaces[0].rssByNode[n]),
    [8192, 4096, 4096],
  );
  assert.deepEqual(
    [0, 1, 2].map((n) => v.node(n, VM.numa_interleave)),
    [8192, 4096, 4096],
  );
  // rmqueue(): PGALLOC on the page's zone. Nodes 0 and 1 are ZONE_NORMAL, node 2 ZONE_MOVABLE.
  assert.equal(v.global(VM.pgalloc_normal), 8192 + 4096);
  assert.equal(v.global(VM.pgalloc_movable), 4096);
  assert.equal(v.node(2, VM.pgalloc_normal), 0);
  // zone_statistics(): the preferred zone is the first of the chosen node's zonelist.
  assert.equal(v.global(VM.numa_hit), 16384);
  assert.equal(v.global(VM.numa_miss), 0);
});

test('numa_interleave: a page that falls back off the chosen node is a numa_miss, not an interleave hit', () => {
  // Node 2 (1024 pages, LOW 32) takes pages on the fast path while free > LOW: 1024 - 32 = 992.
  // The other 4096 - 992 = 3104 pages chosen for it fall back along its zonelist (2, 0, 1) to
  // node 0, which is far above LOW.
  const host = interleaveHost(1024);
  touch(host, 0, 0, 16384);
  const v = host.vmstat;
  assert.deepEqual(
    [0, 1, 2].map((n) => host.spaces[0].rssByNode[n]),
    [8192 + 3104, 4096, 992],
  );
  assert.deepEqual(
    [0, 1, 2].map((n) => v.node(n, VM.numa_interleave)),
    [8192, 4096, 992],
  );
  assert.equal(v.node(0, VM.numa_miss), 3104);
  assert.equal(v.node(2, VM.numa_foreign), 3104);
  assert.equal(v.global(VM.pgalloc_movable), 992);
  assert.equal(v.global(VM.pgalloc_normal), 8192 + 3104 + 4096);
});

test('allocstall: direct reclaim for a user page counts in ZONE_MOVABLE, for a kernel page in ZONE_NORMAL', () => {
  // try_to_free_pages() sets reclaim_idx = gfp_zone(gfp): GFP_HIGHUSER_MOVABLE → ZONE_MOVABLE
  // even where no node has a movable zone; GFP_KERNEL → ZONE_NORMAL.
  const host1 = oneNodeHost();
  touch(host1, 0, 0, 1008); // down to MIN on the fast and slow paths, no reclaim yet
  assert.equal(host1.vmstat.global(VM.allocstall_movable), 0);
  touch(host1, 0, 1008, 1009);
  assert.ok(host1.vmstat.global(VM.allocstall_movable) >= 1, 'the user fault below MIN reclaimed');
  assert.equal(host1.vmstat.global(VM.allocstall_normal), 0);

  const host2 = oneNodeHost();
  touch(host2, 0, 0, 1008);
  assert.ok(host2.allocKernelPage(0, Int32Array.of(0)) >= 0);
  assert.ok(host2.vmstat.global(VM.allocstall_normal) >= 1, 'the kernel page below MIN reclaimed');
  assert.equal(host2.vmstat.global(VM.allocstall_movable), 0);
});

/** One 1024-page node with a CPU, watermarks MIN 16 / LOW 32, swap to reclaim into. */
function oneNodeHost() {
  return smallHost({
    nodes: [{ pages: 1024, cpu: true, wmarks: [16, 32, 48, 64] }],
    spaces: [{ pages: 2000 }],
    swapPages: 4096,
  });
}

test('kswapd wake-ups are numatier’s own count, not a vmstat item', () => {
  const host = oneNodeHost();
  touch(host, 0, 0, 993); // the first allocation below LOW takes the slow path and wakes kswapd
  assert.equal(host.kswapdWakeups[0], 1);
  assert.equal(host.kswapdAwake[0], 1);
});

test('last_cpupid: a new page starts unset (page_cpupid_reset_last), a tier-crossing migration resets it', () => {
  const host = smallHost({
    nodes: [
      { pages: 4096, cpu: true },
      { pages: 4096, cpu: false },
    ],
    spaces: [{ pages: 4, order: [1] }],
    numaBalancing: 2,
  });
  touch(host, 0, 0, 4);
  const p = host.pt[host.spaces[0].base] & PTE_PFN_MASK;
  assert.equal(host.frames.stampOf(p), 2 ** 21 - 1, 'CPUPID_UNSET for NR_CPUS_BITS 13');
  host.frames.setStamp(p, 1234); // a scan time, as the tiering scanner records it
  const q = host.migratePage(p, 0, 0xff, 0);
  // folio_migrate_flags(): slow → top tier in tiering mode resets the field.
  assert.equal(host.frames.stampOf(q), 2 ** 21 - 1);
});
