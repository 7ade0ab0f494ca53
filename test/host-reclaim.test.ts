import { DEFAULT_KERNEL_COSTS } from '../src/host/costs.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PF_ACTIVE, PF_REFERENCED } from '../src/host/frames.js';
import { installHooks } from '../src/host/hooks.js';
import {
  PTE_FILE_SHADOW,
  PTE_PFN_MASK,
  PTE_SWAP,
  PTE_YOUNG,
  RECLAIM_DIRECT,
  RECLAIM_KSWAPD,
} from '../src/host/pte.js';
import { directReclaim, inactiveIsLow, inactiveRatio, kswapdStep, shrinkNode } from '../src/host/reclaim.js';
import { VM } from '../src/host/vmstat.js';
import { smallHost, touch } from './host-support.js';
import { verifyHost } from '../src/host/verify.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures');
const req = {
  reclaimer: RECLAIM_KSWAPD,
  targetMemcg: -1,
  memcgLowReclaim: false,
  noDemotion: false,
  costNs: 0,
};

function ptesOf(host: ReturnType<typeof smallHost>, asId: number, from: number, to: number): number[] {
  const as = host.spaces[asId];
  return Array.from({ length: to - from }, (_, i) => host.pt[as.base + from + i]);
}

describe('second chance (folio_check_references)', () => {
  const mk = () =>
    smallHost({
      nodes: [{ pages: 1024, cpu: true, wmarks: [16, 32, 48, 64] }],
      spaces: [{ pages: 512, filePages: 128 }],
      swapPages: 4096,
    });

  it('a young, unreferenced page is kept and marked referenced, not reclaimed', () => {
    const host = mk();
    touch(host, 0, 0, 100);
    const got = shrinkNode(host, 0, 1000, 0, req);
    assert.equal(got, 0);
    for (const e of ptesOf(host, 0, 0, 100)) {
      assert.ok(e >= 0, 'page still mapped');
      assert.equal(e & PTE_YOUNG, 0, 'the accessed bit is cleared by the scan');
      const f = host.frames.flagsOf(e & PTE_PFN_MASK);
      assert.notEqual(f & PF_REFERENCED, 0, 'PG_referenced set');
      assert.equal(f & PF_ACTIVE, 0, 'still inactive');
    }
    assert.equal(verifyHost(host), null);
  });

  it('a page seen young on two scans is activated', () => {
    const host = mk();
    touch(host, 0, 0, 100);
    shrinkNode(host, 0, 1000, 0, req);
    touch(host, 0, 0, 100);
    shrinkNode(host, 0, 1000, 0, req);
    for (const e of ptesOf(host, 0, 0, 100))
      assert.notEqual(host.frames.flagsOf(e & PTE_PFN_MASK) & PF_ACTIVE, 0);
    assert.equal(host.vmstat.global(VM.pgactivate), 100);
    assert.equal(verifyHost(host), null);
  });

  it('an anon page not touched since the last scan is swapped out, whatever PG_referenced says', () => {
    const host = mk();
    touch(host, 0, 0, 100);
    shrinkNode(host, 0, 1000, 0, req);
    const got = shrinkNode(host, 0, 1000, 0, req);
    assert.equal(got, 100);
    assert.equal(host.vmstat.global(VM.pswpout), 100);
    for (let v = 0; v < 100; v++) assert.equal(host.pt[host.spaces[0].base + v], PTE_SWAP);
    assert.equal(host.swapUsed, 100);
    assert.equal(verifyHost(host), null);
  });

  it('clean file pages are dropped and refault as workingset_refault_file', () => {
    const host = mk();
    touch(host, 0, 384, 512); // the file-backed tail
    shrinkNode(host, 0, 1000, 0, req);
    shrinkNode(host, 0, 1000, 0, req);
    assert.equal(host.pt[host.spaces[0].base + 400], PTE_FILE_SHADOW);
    assert.equal(host.vmstat.global(VM.pswpout), 0, 'file pages never go to swap');
    touch(host, 0, 400, 401);
    assert.equal(host.vmstat.global(VM.workingset_refault_file), 1);
    assert.equal(verifyHost(host), null);
  });

  it('without swap or a demotion target, anon pages are not reclaimed', () => {
    const host = smallHost({ nodes: [{ pages: 1024, cpu: true }], spaces: [{ pages: 512 }], swapPages: 0 });
    touch(host, 0, 0, 200);
    shrinkNode(host, 0, 1000, 0, req);
    assert.equal(shrinkNode(host, 0, 1000, 0, req), 0);
    assert.equal(host.spaces[0].rss(), 200);
  });
});

describe('inactive_is_low', () => {
  it('matches the kernel table of target ratios (SPEC CE-5, VERBATIM table in mm/vmscan.c)', () => {
    const rows = JSON.parse(readFileSync(join(fixtures, 'kernel-ce5-inactive-ratio.json'), 'utf8')) as {
      rows: { total_pages: number; ratio: number }[];
    };
    for (const r of rows.rows)
      assert.equal(inactiveRatio(r.total_pages), r.ratio, `total ${r.total_pages} pages`);
  });
  it('is a strict comparison inactive * ratio < active', () => {
    // 1 GiB total -> ratio 3
    assert.equal(inactiveIsLow(65536, 196608), false); // 65536 * 3 == 196608
    assert.equal(inactiveIsLow(65535, 196609), true);
  });
});

describe('watermarks and the allocator', () => {
  it('the fast path fills a node down to LOW, then spills along the zonelist without waking kswapd', () => {
    const host = smallHost({
      nodes: [
        { pages: 1024, cpu: true, wmarks: [16, 32, 48, 64] },
        { pages: 4096, cpu: false, wmarks: [16, 32, 48, 64] },
      ],
      spaces: [{ pages: 2000, order: [0, 1] }],
    });
    touch(host, 0, 0, 2000);
    assert.equal(host.frames.freeCount[0], 32, 'node 0 stops exactly at its low watermark');
    assert.equal(host.spaces[0].rssByNode[1], 2000 - (1024 - 32));
    assert.equal(host.kswapdAwake[0], 0, 'the fast path does not wake kswapd');
    assert.equal(verifyHost(host), null);
  });

  it('below LOW everywhere the slow path wakes kswapd and allocates down to MIN; below MIN it reclaims directly', () => {
    const host = smallHost({
      nodes: [{ pages: 1024, cpu: true, wmarks: [16, 32, 48, 64] }],
      spaces: [{ pages: 2000 }],
      swapPages: 4096,
    });
    touch(host, 0, 0, 1024 - 32);
    assert.equal(host.kswapdAwake[0], 0);
    touch(host, 0, 992, 993);
    assert.equal(host.kswapdAwake[0], 1, 'kswapd woken by the slow path');
    touch(host, 0, 993, 1008);
    assert.equal(host.frames.freeCount[0], 16, 'the slow path allocates down to MIN');
    assert.equal(host.vmstat.global(VM.allocstall_movable), 0);
    touch(host, 0, 1008, 1009);
    // A user page is GFP_HIGHUSER_MOVABLE: its direct reclaim counts in ZONE_MOVABLE even on a
    // node whose only zone is ZONE_NORMAL (do_try_to_free_pages, sc->reclaim_idx = gfp_zone).
    assert.ok(host.vmstat.global(VM.allocstall_movable) >= 1, 'direct reclaim below MIN');
    assert.equal(host.vmstat.global(VM.allocstall_normal), 0);
    assert.ok(host.vmstat.global(VM.pgsteal_direct) >= 1);
    assert.equal(verifyHost(host), null);
  });

  it('kswapd reclaims until free exceeds HIGH, or PROMO in memory-tiering mode', () => {
    for (const [mode, mark] of [
      [0, 48],
      [2, 64],
    ] as const) {
      const host = smallHost({
        nodes: [{ pages: 1024, cpu: true, wmarks: [16, 32, 48, 64] }],
        spaces: [{ pages: 2000 }],
        swapPages: 4096,
        numaBalancing: mode,
      });
      touch(host, 0, 0, 1008);
      for (let i = 0; i < 500 && !host.nodeBalanced(0); i++) kswapdStep(host, 0);
      assert.ok(host.frames.freeCount[0] > mark, `mode ${mode}: free ${host.frames.freeCount[0]} > ${mark}`);
      assert.ok(host.vmstat.global(VM.pgsteal_kswapd) > 0);
    }
  });
});

describe('demotion (migrate-on-reclaim)', () => {
  const mk = (swapPages: number, slowWmarks?: [number, number, number, number]) =>
    smallHost({
      nodes: [
        { pages: 1024, cpu: true, wmarks: [16, 32, 48, 64], preferred: [1] },
        { pages: 2048, cpu: false, wmarks: slowWmarks ?? [16, 32, 48, 64] },
      ],
      spaces: [{ pages: 4000, order: [0] }],
      swapPages,
      demotionEnabled: true,
    });

  it('reclaim on a node with a target demotes cold pages instead of swapping them, counted on the source node', () => {
    const host = mk(4096);
    touch(host, 0, 0, 900);
    shrinkNode(host, 0, 1000, 0, req);
    const got = shrinkNode(host, 0, 1000, 0, req);
    assert.equal(got, 900, 'demoted pages count as reclaimed');
    assert.equal(host.vmstat.node(0, VM.pgdemote_kswapd), 900);
    assert.equal(host.vmstat.node(1, VM.pgdemote_kswapd), 0);
    assert.equal(host.vmstat.global(VM.pswpout), 0);
    assert.equal(host.spaces[0].rssByNode[1], 900);
    assert.equal(host.cgroups.usage[0], 900, 'demoted pages stay charged');
    assert.equal(verifyHost(host), null);
  });

  it('a demotion costs the reclaimer demote_page_ns (no TLB shootdown of its own), not migrate_page_ns', () => {
    const host = mk(4096);
    touch(host, 0, 0, 900);
    shrinkNode(host, 0, 1000, 0, req); // ages the pages onto the inactive list
    req.costNs = 0;
    const scannedBefore = host.vmstat.global(VM.pgscan_kswapd) + host.vmstat.global(VM.pgscan_direct);
    const got = shrinkNode(host, 0, 1000, 0, req);
    const scanned =
      host.vmstat.global(VM.pgscan_kswapd) + host.vmstat.global(VM.pgscan_direct) - scannedBefore;
    assert.equal(got, 900);
    assert.notEqual(DEFAULT_KERNEL_COSTS.demotePageNs, DEFAULT_KERNEL_COSTS.migratePageNs);
    // Scanning is charged per page looked at, the demotions per page moved.
    const expected = 900 * DEFAULT_KERNEL_COSTS.demotePageNs + scanned * DEFAULT_KERNEL_COSTS.scanPageNs;
    assert.ok(
      Math.abs(req.costNs - expected) <= 64 * DEFAULT_KERNEL_COSTS.scanPageNs,
      `charged ${req.costNs} ns, expected about ${expected}`,
    );
  });

  it('when the target is at MIN, demotion fails and reclaim falls back to swap', () => {
    const host = mk(4096, [2000, 2010, 2020, 2030]);
    touch(host, 0, 0, 900);
    shrinkNode(host, 0, 1000, 0, req);
    shrinkNode(host, 0, 1000, 0, req);
    assert.equal(host.vmstat.global(VM.pgdemote_kswapd), 48, 'only the pages above MIN on the target');
    assert.equal(host.vmstat.global(VM.pswpout), 900 - 48);
    assert.equal(host.kswapdAwake[1], 1, 'the target kswapd is woken');
    assert.equal(verifyHost(host), null);
  });

  it('demotion_enabled=false swaps instead', () => {
    const host = mk(4096);
    host.demotionEnabled = false;
    touch(host, 0, 0, 900);
    shrinkNode(host, 0, 1000, 0, req);
    shrinkNode(host, 0, 1000, 0, req);
    assert.equal(host.vmstat.global(VM.pgdemote_kswapd), 0);
    assert.equal(host.vmstat.global(VM.pswpout), 900);
  });
});

describe('memory cgroups', () => {
  it('memory.max holds: reclaim within the group keeps usage at or below it', () => {
    const host = smallHost({
      nodes: [{ pages: 4096, cpu: true }],
      cgroups: [{ path: '/a', memoryMax: 100, memoryHigh: Infinity, memoryLow: 0 }],
      spaces: [{ pages: 300, memcg: 1 }],
      swapPages: 1000,
    });
    for (let v = 0; v < 300; v++) {
      touch(host, 0, v, v + 1);
      assert.ok(host.cgroups.usage[1] <= 100);
    }
    assert.ok(host.vmstat.global(VM.pswpout) >= 200);
    assert.ok(host.cgroups.eventCount(1, 'max') > 0);
    assert.equal(verifyHost(host), null);
  });

  it('OOM-kills inside the group when nothing can be reclaimed', () => {
    const host = smallHost({
      nodes: [{ pages: 4096, cpu: true }],
      cgroups: [{ path: '/a', memoryMax: 100, memoryHigh: Infinity, memoryLow: 0 }],
      spaces: [{ pages: 300, memcg: 1 }, { pages: 50 }],
      swapPages: 0,
    });
    touch(host, 1, 0, 50);
    touch(host, 0, 0, 300);
    assert.equal(host.spaces[0].alive, false);
    assert.equal(host.spaces[1].alive, true, 'a task outside the group is not a victim');
    assert.equal(host.vmstat.global(VM.oom_kill), 1);
    assert.equal(host.cgroups.eventCount(1, 'oom_kill'), 1);
    assert.equal(host.cgroups.usage[1], 0, "the victim's memory is freed");
    assert.equal(verifyHost(host), null);
  });
});

describe('walks over the memcg tree (shrink_node_memcgs)', () => {
  // /p holds two groups of 4096 clean page-cache pages each, not accessed since they were
  // faulted in, so the first scan reclaims them.
  const mk = () => {
    const host = smallHost({
      nodes: [{ pages: 32768, cpu: true }],
      cgroups: ['/p', '/p/s1', '/p/s2'].map((path) => ({
        path,
        memoryMax: Infinity,
        memoryHigh: Infinity,
        memoryLow: 0,
      })),
      spaces: [
        { pages: 4096, filePages: 4096, memcg: 2 },
        { pages: 4096, filePages: 4096, memcg: 3 },
      ],
    });
    touch(host, 0, 0, 4096);
    touch(host, 1, 0, 4096);
    for (let g = 0; g < host.pt.length; g++) if (host.pt[g] >= 0) host.pt[g] &= ~PTE_YOUNG;
    return host;
  };
  const usage = (host: ReturnType<typeof smallHost>) => [host.cgroups.usage[2], host.cgroups.usage[3]];

  it('a partial walk (direct or memcg reclaim) resumes after the group where the last one stopped', () => {
    const host = mk();
    const direct = {
      reclaimer: RECLAIM_DIRECT,
      targetMemcg: 1,
      memcgLowReclaim: false,
      noDemotion: false,
      costNs: 0,
    };
    const seen: string[] = [];
    for (let call = 0; call < 4; call++) {
      const before = usage(host);
      assert.ok(shrinkNode(host, 0, 32, 0, direct) >= 32);
      const after = usage(host);
      seen.push(
        after[0] < before[0] ? (after[1] < before[1] ? 'both' : 's1') : after[1] < before[1] ? 's2' : '-',
      );
    }
    // Each walk stops at the group that met the goal; the next one starts after it, and one
    // that would start past the end starts again at the top.
    assert.deepEqual(seen, ['s1', 's2', 's1', 's2']);
    assert.equal(verifyHost(host), null);
  });

  it('kswapd walks every group, even when the first one meets the goal', () => {
    const host = mk();
    const kswapd = {
      reclaimer: RECLAIM_KSWAPD,
      targetMemcg: -1,
      memcgLowReclaim: false,
      noDemotion: false,
      costNs: 0,
    };
    const before = usage(host);
    assert.ok(shrinkNode(host, 0, 32, 0, kswapd) >= 32);
    const after = usage(host);
    assert.ok(after[0] < before[0] && after[1] < before[1], `both groups reclaimed: ${before} -> ${after}`);
    assert.equal(verifyHost(host), null);
  });
});

describe('a hopeless kswapd (kswapd_failures)', () => {
  it('sleeps after 16 runs without progress, and a successful direct reclaim revives it', () => {
    // Anon only, no swap, no demotion target: kswapd can reclaim nothing from the full node.
    const host = smallHost({
      nodes: [{ pages: 1024, cpu: true, wmarks: [16, 32, 48, 64] }],
      spaces: [{ pages: 1000 }, { pages: 200, filePages: 200 }],
    });
    const woken: number[] = [];
    installHooks(host, [{ level: 'kernel', by: 'test', hooks: { wakeKswapd: (n) => woken.push(n) } }]);
    touch(host, 0, 0, 1000);
    let failures = 0;
    for (let step = 0; step < 16 * 12 && failures < 16; step++) if (kswapdStep(host, 0) < 0) failures++;
    assert.equal(failures, 16, 'every run from priority 12 down to 1 failed');
    host.kswapdFailures[0] = failures; // as the engine counts them
    host.kswapdAwake[0] = 0;
    woken.length = 0; // filling the node woke it before
    host.wakeKswapd(0);
    assert.deepEqual(woken, [], 'a hopeless node is left to direct reclaim');
    // Page cache appears (the file-backed process), and direct reclaim can drop it.
    for (let v = 0; v < 200; v++)
      if (host.pt[host.spaces[1].base + v] < 0) host.fault(host.spaces[1], v, false);
    for (let g = 0; g < host.pt.length; g++) if (host.pt[g] >= 0) host.pt[g] &= ~PTE_YOUNG;
    assert.ok(directReclaim(host, Int32Array.of(0), -1) > 0);
    assert.equal(host.kswapdFailures[0], 0, 'progress resets kswapd_failures');
    host.wakeKswapd(0);
    assert.deepEqual(woken, [0], 'kswapd wakes again');
    assert.equal(verifyHost(host), null);
  });
});
