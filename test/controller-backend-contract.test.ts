import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserspaceController, fastPagesOf } from '../src/controller/controller.js';
import { EFAULT, ENODEV, ENOENT, type Clock, type TieringBackend } from '../src/controller/interface.js';
import { HostBackend } from '../src/controller/real/host-backend.js';
import { SimTieringBackend, simClock } from '../src/controller/sim-backend.js';
import { PTE_YOUNG } from '../src/host/pte.js';
import { TierRatio } from '../src/host/tier-ratio.js';
import { parseTierRatio } from '../src/util/tier-ratio-text.js';
import { fixedPlacement, smallHost, touch } from './host-support.js';
import { FakeHost } from './real-host-support.js';

/**
 * The contract every TieringBackend passes, whatever it runs on: the simulator today, a real
 * host's /sys, /proc and cgroupfs (against a fixture tree) later. Each backend builds the same
 * small world and the suite checks that the backend reports it as Linux would, and that the
 * controller run against it holds the ratio. Adding a backend is one line in BACKENDS.
 *
 * The world: node FAST (top tier, has CPUs) and node SLOW (a lower tier, no CPUs); cgroup /g
 * with memory.tier_ratio 1:3; one process PID in /g, default policy, no cpuset, 64 pages of
 * one mapping: pages 0–31 on FAST, 32–47 on SLOW, 48–63 never touched.
 */
export interface BackendFixture {
  backend: TieringBackend;
  clock: Clock;
  pid: number;
  fast: number;
  slow: number;
  /** The process accesses one of its pages (the MMU sets the accessed bit). */
  access(page: number): void;
  /** Time passes. */
  advance(ms: number): void;
  /**
   * 'host': cgroups() lists every cgroup from "/" (the simulator). 'managed': only the managed
   * cgroups and their descendants (a real host's backend never sees, let alone touches, others).
   */
  cgroupScope: 'host' | 'managed';
}

const PAGES = 64;
const ON_FAST = 32;
const ON_SLOW = 16;

function simulatorFixture(): BackendFixture {
  const host = smallHost({
    nodes: [
      { pages: 2048, cpu: true },
      { pages: 4096, cpu: false },
    ],
    cgroups: [{ path: '/g', memoryMax: Infinity, memoryHigh: Infinity, memoryLow: 0 }],
    spaces: [{ pages: PAGES, memcg: 1, order: [0] }],
  });
  const as = host.spaces[0];
  touch(host, 0, 0, ON_FAST);
  as.placement = fixedPlacement([1]);
  touch(host, 0, ON_FAST, ON_FAST + ON_SLOW);
  const ratio = new TierRatio(host);
  ratio.write(1, '1:3');
  const backend = new SimTieringBackend(host, {
    processes: [{ asId: 0, policy: { mode: 'default', nodes: [] }, cpuset: null }],
    ratio,
  });
  return {
    backend,
    clock: simClock(host),
    pid: 1,
    fast: host.topo.nodes[0].id,
    slow: host.topo.nodes[1].id,
    access: (page) => {
      host.pt[as.base + page] |= PTE_YOUNG;
    },
    advance: (ms) => {
      host.now += ms * 1e6;
    },
    cgroupScope: 'host',
  };
}

/**
 * The same world as files under a temporary root (test/real-host-support.ts), read by the real
 * backend; move_pages(2) is the fake kernel's. The backend moves pages only of pids it saw in a
 * managed cgroup's cgroup.procs, as the controller always reads them first: the fixture reads
 * them once. The temporary trees are removed when the process exits.
 */
const fakeHosts: FakeHost[] = [];
process.on('exit', () => fakeHosts.forEach((h) => h.remove()));

function hostFixture(tracking: 'page_idle' | 'soft_dirty'): BackendFixture {
  const h = new FakeHost(
    [
      { id: 0, cpu: true, tier: 1, frames: 2048 },
      { id: 1, cpu: false, tier: 4, frames: 4096 },
    ],
    ['/g'],
  );
  fakeHosts.push(h);
  const resident: [number, number][] = [];
  for (let v = 0; v < ON_FAST + ON_SLOW; v++) resident.push([v, v < ON_FAST ? 0 : 1]);
  h.addProcess({ pid: 4242, cgroup: '/g', vmas: [{ startPage: 0, pages: PAGES }], resident });
  const backend = new HostBackend({
    root: h.root,
    syscalls: h.syscalls,
    managed: [{ path: '/g', tierRatio: '1:3' }],
    tracking,
    writer: h.writer,
  });
  backend.readCgroupFile('/g', 'cgroup.procs');
  return {
    backend,
    clock: h.clock(),
    pid: 4242,
    fast: 0,
    slow: 1,
    access: (page) => h.access(4242, page),
    advance: (ms) => {
      h.now += ms;
    },
    cgroupScope: 'managed',
  };
}

const BACKENDS: [string, () => BackendFixture][] = [
  ['simulator', simulatorFixture],
  ['real host (fixture tree, page_idle)', () => hostFixture('page_idle')],
  ['real host (fixture tree, soft_dirty)', () => hostFixture('soft_dirty')],
];

function nodesOf(f: BackendFixture, pages: number[]): number[] {
  const status = new Int32Array(pages.length);
  assert.equal(f.backend.movePages(f.pid, Float64Array.from(pages), pages.length, null, status), 0);
  return [...status];
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

export function backendContract(name: string, make: () => BackendFixture): void {
  describe(`TieringBackend contract: ${name}`, () => {
    it('memory tiers fastest first, CPU nodes, SLIT distances', () => {
      const { backend: b, fast, slow } = make();
      const tiers = b.memoryTiers();
      const all = tiers.flatMap((t) => t.nodes);
      assert.equal(new Set(all).size, all.length, 'a node is in one tier');
      const tierOf = (n: number) => tiers.findIndex((t) => t.nodes.includes(n));
      assert.ok(tierOf(fast) >= 0 && tierOf(fast) < tierOf(slow));
      assert.deepEqual(b.cpuNodes(), [fast]);
      assert.equal(b.nodeDistance(fast, fast), 10);
      assert.ok(b.nodeDistance(fast, slow) > 10);
      assert.equal(b.nodeDistance(fast, slow), b.nodeDistance(slow, fast));
    });

    it('cgroupfs: the tree, memory.current, memory.numa_stat per node, memory.tier_ratio, cgroup.procs', () => {
      const f = make();
      const { backend: b, pid, fast, slow } = f;
      const cgs = b.cgroups();
      const parent = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';
      cgs.forEach((c, i) => {
        const at = cgs.indexOf(parent(c));
        assert.ok(c === '/' || at < i, `${c} after its parent`);
      });
      if (f.cgroupScope === 'host') {
        assert.equal(cgs[0], '/');
        assert.ok(cgs.indexOf('/g') > 0);
      } else {
        assert.ok(!cgs.includes('/'), 'only the managed cgroups');
        assert.ok(cgs.includes('/g'));
      }
      assert.equal(Number(b.readCgroupFile('/g', 'memory.current').trim()), (ON_FAST + ON_SLOW) * 4096);
      const stat = b.readCgroupFile('/g', 'memory.numa_stat');
      assert.equal(fastPagesOf(stat, new Set([fast])), ON_FAST);
      assert.equal(fastPagesOf(stat, new Set([slow])), ON_SLOW);
      assert.equal(parseTierRatio(b.readCgroupFile('/g', 'memory.tier_ratio').trim(), 'f').fraction, 0.25);
      assert.deepEqual(b.readCgroupFile('/g', 'cgroup.procs').split('\n').filter(Boolean).map(Number), [pid]);
      assert.throws(() => b.readCgroupFile('/g', 'memory.nonsense'));
      assert.throws(() => b.readCgroupFile('/nope', 'memory.current'));
    });

    it('a process: its mappings, its policy, pagemap and the node of each page', () => {
      const f = make();
      const b = f.backend;
      const maps = b.mappings(f.pid);
      let at = 0;
      for (const m of maps) {
        assert.equal(m.startPage, at, 'ascending, contiguous here');
        at += m.pages;
      }
      assert.equal(at, PAGES);
      assert.equal(b.numaMapsPolicy(f.pid), 'default');
      const pfns = new Float64Array(PAGES);
      b.pagemap(f.pid, 0, PAGES, pfns);
      const present = [...pfns].filter((p) => p >= 0);
      assert.equal(present.length, ON_FAST + ON_SLOW);
      assert.equal(new Set(present).size, present.length, 'one frame per page');
      assert.ok([...pfns.subarray(ON_FAST + ON_SLOW)].every((p) => p === -1));
      const nodes = nodesOf(f, range(0, PAGES));
      assert.deepEqual(nodes.slice(0, ON_FAST), Array(ON_FAST).fill(f.fast));
      assert.deepEqual(nodes.slice(ON_FAST, ON_FAST + ON_SLOW), Array(ON_SLOW).fill(f.slow));
      assert.ok(nodes.slice(ON_FAST + ON_SLOW).every((s) => s === -ENOENT));
      const status = new Int32Array(1);
      b.movePages(f.pid, Float64Array.from([PAGES + 5]), 1, null, status);
      assert.equal(status[0], -EFAULT, 'outside every mapping');
    });

    it('page_idle: marked pages read idle until accessed; never-marked pages read not idle', () => {
      const f = make();
      const pfns = new Float64Array(4);
      f.backend.pagemap(f.pid, 0, 4, pfns);
      const idle = new Uint8Array(4);
      f.backend.pageIdleRead(pfns, 4, idle);
      assert.deepEqual([...idle], [0, 0, 0, 0]);
      f.backend.pageIdleMark(pfns, 4);
      f.access(2);
      f.backend.pageIdleRead(pfns, 4, idle);
      assert.deepEqual([...idle], [1, 1, 0, 1]);
    });

    it('soft-dirty: every page reads dirty until clear_refs, then only the written ones', (t) => {
      const f = make();
      if (f.backend.accessTracking() !== 'soft_dirty') {
        // The simulator models accessed bits and page_idle only; soft-dirty is a real kernel's.
        t.skip('this backend tracks accesses with page_idle');
        return;
      }
      const pfns = new Float64Array(4);
      const dirty = new Uint8Array(4);
      f.backend.pagemap(f.pid, 0, 4, pfns, dirty);
      assert.deepEqual([...dirty], [1, 1, 1, 1]);
      f.backend.clearSoftDirty(f.pid);
      f.access(2);
      f.backend.pagemap(f.pid, 0, 4, pfns, dirty);
      assert.deepEqual([...dirty], [0, 0, 1, 0]);
      assert.ok([...pfns].every((p) => p >= 0));
    });

    it('move_pages: a batch moves, numa_stat follows, a bad node ends the call', () => {
      const f = make();
      const b = f.backend;
      const status = new Int32Array(4);
      const nodes = Int32Array.from([f.slow, f.slow, f.slow, f.slow]);
      assert.equal(b.movePages(f.pid, Float64Array.from([0, 1, 2, 50]), 4, nodes, status), 1);
      assert.deepEqual([...status], [f.slow, f.slow, f.slow, -ENOENT]);
      assert.deepEqual(nodesOf(f, [0, 1, 2, 3]), [f.slow, f.slow, f.slow, f.fast]);
      assert.equal(fastPagesOf(b.readCgroupFile('/g', 'memory.numa_stat'), new Set([f.fast])), ON_FAST - 3);
      const bad = Math.max(f.fast, f.slow) + 100;
      assert.equal(b.movePages(f.pid, Float64Array.from([3]), 1, Int32Array.from([bad]), status), -ENODEV);
      assert.deepEqual(nodesOf(f, [3]), [f.fast]);
    });

    it('the clock is monotonic and advances', () => {
      const f = make();
      const t0 = f.clock.nowMs();
      f.advance(25);
      assert.equal(f.clock.nowMs() - t0, 25);
    });

    it('the controller, run against it, brings the group down to its quota', () => {
      const f = make();
      const c = new UserspaceController(f.backend, f.clock, {
        periodMs: 10,
        bandwidthMBps: 512,
        scanPages: PAGES,
      });
      assert.equal(c.poll(), 10, 'the first period is due one period after the first poll');
      f.advance(10);
      assert.equal(c.poll(), 10);
      assert.equal(c.stats.periods, 1);
      const quota = Math.ceil(0.25 * (ON_FAST + ON_SLOW));
      const fast = fastPagesOf(f.backend.readCgroupFile('/g', 'memory.numa_stat'), new Set([f.fast]));
      assert.equal(fast, quota);
      assert.equal(c.stats.demotedPages, ON_FAST - quota);
    });
  });
}

for (const [name, make] of BACKENDS) backendContract(name, make);
