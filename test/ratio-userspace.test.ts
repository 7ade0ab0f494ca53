import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EACCES,
  ENODEV,
  ENOENT,
  type MappingInfo,
  type MemoryTierInfo,
  type TieringBackend,
} from '../src/controller/interface.js';
import { SimTieringBackend } from '../src/controller/sim-backend.js';
import { MR } from '../src/host/migration-ledger.js';
import { PTE_YOUNG } from '../src/host/pte.js';
import { TierRatio } from '../src/host/tier-ratio.js';
import { UserspaceController, bindMask, fastPagesOf } from '../src/controller/controller.js';
import { smallHost, touch } from './host-support.js';
import { verifyHost } from '../src/host/verify.js';

/**
 * The user-space controller (idea S12) and its interface. The controller is exercised against
 * an in-memory backend that is not the simulator at all — which is what shows it depends on the
 * interface only — and the simulator's backend is checked against the semantics of the files
 * and system calls it stands for.
 */

/** A host of one fast node (0) and one slow node (1), one process (pid 7) in /g. */
class FakeBackend implements TieringBackend {
  node: Int32Array;
  accessed: Uint8Array;
  idle: Uint8Array;
  moves = 0;
  ratio = '0.25';
  policy = 'default';
  hinted: [number, number] | null = null;
  allowed: Set<number> | null = null;
  constructor(readonly pages: number) {
    this.node = new Int32Array(pages); // all fast
    this.accessed = new Uint8Array(pages);
    this.idle = new Uint8Array(pages);
  }
  accessTracking(): 'page_idle' {
    return 'page_idle';
  }
  clearSoftDirty(): void {
    throw new Error('page_idle only');
  }
  damonSnapshot(): void {
    throw new Error('page_idle only');
  }
  damonWatched(): boolean {
    return false;
  }
  damonIdle(): void {
    throw new Error('page_idle only');
  }
  memoryTiers(): MemoryTierInfo[] {
    return [
      { id: 1, nodes: [0] },
      { id: 3, nodes: [1] },
    ];
  }
  cpuNodes(): number[] {
    return [0];
  }
  nodeDistance(a: number, b: number): number {
    return a === b ? 10 : 17;
  }
  cgroups(): string[] {
    return ['/', '/g'];
  }
  readCgroupFile(cg: string, file: string): string {
    const mine = cg === '/g' || cg === '/';
    switch (file) {
      case 'memory.tier_ratio':
        return cg === '/g' ? `${this.ratio}\n` : 'max\n';
      case 'memory.current':
        return `${mine ? this.pages * 4096 : 0}\n`;
      case 'memory.numa_stat': {
        const n0 = this.node.filter((n) => n === 0).length * 4096;
        return `anon N0=${n0} N1=${this.pages * 4096 - n0}\nfile N0=0 N1=0\npgpromote_success N0=999999 N1=0\n`;
      }
      case 'cgroup.procs':
        return cg === '/g' ? '7\n' : '';
    }
    throw new Error(file);
  }
  mappings(pid: number): MappingInfo[] {
    assert.equal(pid, 7);
    if (this.hinted === null) return [{ startPage: 0, pages: this.pages, fastHint: false }];
    const [a, b] = this.hinted;
    return [
      { startPage: 0, pages: a, fastHint: false },
      { startPage: a, pages: b - a, fastHint: true },
      { startPage: b, pages: this.pages - b, fastHint: false },
    ].filter((m) => m.pages > 0);
  }
  numaMapsPolicy(): string {
    return this.policy;
  }
  pagemap(_pid: number, start: number, count: number, pfns: Float64Array): void {
    for (let i = 0; i < count; i++) pfns[i] = start + i < this.pages ? 1000 + start + i : -1;
  }
  pageIdleRead(pfns: Float64Array, count: number, idle: Uint8Array): void {
    for (let i = 0; i < count; i++) {
      const v = pfns[i] - 1000;
      if (this.accessed[v]) this.idle[v] = 0;
      this.accessed[v] = 0;
      idle[i] = this.idle[v];
    }
  }
  pageIdleMark(pfns: Float64Array, count: number): void {
    for (let i = 0; i < count; i++) {
      const v = pfns[i] - 1000;
      this.idle[v] = 1;
      this.accessed[v] = 0;
    }
  }
  movePages(
    _pid: number,
    pages: Float64Array,
    count: number,
    nodes: Int32Array | null,
    status: Int32Array,
  ): number {
    for (let i = 0; i < count; i++) {
      const v = pages[i];
      if (nodes === null) status[i] = this.node[v];
      else if (this.allowed !== null && !this.allowed.has(nodes[i])) return -EACCES;
      else {
        if (this.node[v] !== nodes[i]) this.moves++;
        this.node[v] = nodes[i];
        status[i] = nodes[i];
      }
    }
    return 0;
  }
  fast(): number {
    return this.node.filter((n) => n === 0).length;
  }
  touch(from: number, to: number): void {
    this.accessed.fill(1, from, to);
  }
}

const controller = (b: TieringBackend, pagesPerPeriod = 1e6) =>
  new UserspaceController(
    b,
    { nowMs: () => 0 },
    {
      periodMs: 100,
      bandwidthMBps: (pagesPerPeriod * 4096) / 2 ** 20 / 0.1,
      scanPages: 1 << 20,
    },
  );

describe('the user-space controller on any TieringBackend', () => {
  it('brings an over-quota group down to its quota first, even before it knows which pages are idle', () => {
    const b = new FakeBackend(100);
    const c = controller(b);
    c.step();
    assert.equal(b.fast(), 25);
    assert.equal(c.stats.demotedPages, 75);
  });

  it('keeps to its bandwidth cap per period', () => {
    const b = new FakeBackend(100);
    const c = controller(b, 10);
    c.step();
    assert.equal(b.moves, 10);
    c.step();
    assert.equal(b.moves, 20);
  });

  it('exchanges idle fast pages for busy slow ones at the quota, and promotes under it', () => {
    const b = new FakeBackend(100);
    const c = controller(b);
    c.step(); // no idle information yet: pages 0..74 demoted in scan order, all marked idle
    assert.equal(b.node[10], 1);
    b.touch(60, 70); // a hot set on the slow node
    c.step();
    for (let v = 60; v < 70; v++) assert.equal(b.node[v], 0, `page ${v} promoted`);
    assert.equal(b.fast(), 25, 'an exchange keeps the quota');
    b.ratio = '0.5';
    b.touch(30, 50);
    c.step();
    for (let v = 30; v < 50; v++) assert.equal(b.node[v], 0, `page ${v} promoted under the quota`);
    assert.equal(b.fast(), 45, 'busy pages only: 20 promoted, idle ones stay');
    b.ratio = 'max';
    const moves = b.moves;
    c.step();
    assert.equal(b.moves, moves, '"max": the controller leaves the group alone');
  });

  it("never demotes the tenant's hinted pages, and leaves bound processes alone", () => {
    const b = new FakeBackend(100);
    b.hinted = [0, 20];
    controller(b).step();
    for (let v = 0; v < 20; v++) assert.equal(b.node[v], 0);
    assert.equal(b.fast(), 25);
    const bound = new FakeBackend(100);
    bound.policy = 'bind:0';
    controller(bound).step();
    assert.equal(bound.moves, 0, 'bound to the fast node: the policy wins');
    const both = new FakeBackend(100);
    both.policy = 'bind=balancing:0-1';
    controller(both).step();
    assert.equal(both.fast(), 25, 'bound to both tiers: the ratio applies inside the mask');
  });

  it('falls back to another node when move_pages says -EACCES (cpuset)', () => {
    const b = new FakeBackend(100);
    b.allowed = new Set([0]);
    const c = controller(b);
    c.step();
    assert.equal(b.moves, 0);
    assert.equal(c.stats.failedPages, 75);
  });

  it('reads bind masks out of numa_maps policy text', () => {
    assert.deepEqual([...(bindMask('bind:0-2,5') ?? [])], [0, 1, 2, 5]);
    assert.deepEqual([...(bindMask('bind=static|balancing:3') ?? [])], [3]);
    assert.equal(bindMask('prefer (many):0-1'), null);
    assert.equal(bindMask('default'), null);
  });

  it('reads fast memory out of memory.numa_stat, ignoring event counters', () => {
    const text =
      'anon N0=8192 N1=4096\nfile N0=4096 N1=0\nslab_unreclaimable N0=4096 N1=0\npgdemote_kswapd N0=77 N1=0\n';
    assert.equal(fastPagesOf(text, new Set([0])), 4);
    assert.equal(fastPagesOf(text, new Set([1])), 1);
  });
});

describe('the simulator backend', () => {
  const setup = () => {
    const host = smallHost({
      nodes: [
        { pages: 2048, cpu: true },
        { pages: 4096, cpu: false },
      ],
      cgroups: [{ path: '/g', memoryMax: Infinity, memoryHigh: Infinity, memoryLow: 0 }],
      spaces: [{ pages: 64, memcg: 1 }],
    });
    const ratio = new TierRatio(host);
    ratio.write(1, '1:3');
    touch(host, 0, 0, 32);
    const b = new SimTieringBackend(host, {
      processes: [{ asId: 0, policy: { mode: 'bind', nodes: [0, 1] }, cpuset: [0] }],
      ratio,
      hintedRanges: () => [[8, 16]],
    });
    return { host, b };
  };

  it('serves cgroupfs files, smaps-like mappings and numa_maps policy text', () => {
    const { b } = setup();
    assert.equal(b.readCgroupFile('/g', 'memory.tier_ratio').trim(), '1:3');
    assert.equal(Number(b.readCgroupFile('/g', 'memory.current')), 32 * 4096);
    assert.equal(b.readCgroupFile('/g', 'cgroup.procs'), '1\n');
    assert.match(b.readCgroupFile('/g', 'memory.numa_stat'), /^anon N0=131072 N1=0$/m);
    assert.deepEqual(b.mappings(1), [
      { startPage: 0, pages: 8, fastHint: false },
      { startPage: 8, pages: 8, fastHint: true },
      { startPage: 16, pages: 48, fastHint: false },
    ]);
    assert.equal(b.numaMapsPolicy(1), 'bind:0-1');
    assert.deepEqual(b.memoryTiers(), [
      { id: 4, nodes: [0] },
      { id: 22, nodes: [1] },
    ]);
  });

  it('page_idle: a marked page reads idle until it is accessed; reading consumes the access', () => {
    const { host, b } = setup();
    const pfns = new Float64Array(2);
    b.pagemap(1, 0, 2, pfns);
    assert.ok(pfns[0] >= 0 && pfns[1] >= 0);
    const idle = new Uint8Array(2);
    b.pageIdleRead(pfns, 2, idle);
    assert.deepEqual([...idle], [0, 0], 'never marked: not idle');
    b.pageIdleMark(pfns, 2);
    assert.equal(host.pt[host.spaces[0].base] & PTE_YOUNG, 0, 'marking clears the accessed bit');
    host.pt[host.spaces[0].base + 1] |= PTE_YOUNG; // page 1 is accessed
    b.pageIdleRead(pfns, 2, idle);
    assert.deepEqual([...idle], [1, 0]);
    b.pageIdleRead(pfns, 2, idle);
    assert.deepEqual([...idle], [1, 0], 'page 1 stays not idle until marked again');
  });

  it('move_pages: query, move, per-page and whole-call errors', () => {
    const { host, b } = setup();
    const pages = Float64Array.from([0, 40, 1, 2]);
    const status = new Int32Array(4);
    assert.equal(b.movePages(1, pages, 4, null, status), 0);
    assert.deepEqual([...status], [0, -ENOENT, 0, 0]);
    assert.equal(
      b.movePages(1, pages, 4, Int32Array.from([0, 0, 0, 0]), status),
      1,
      'page 40 is not present',
    );
    assert.deepEqual([...status], [0, -ENOENT, 0, 0]);
    assert.equal(b.movePages(1, pages, 4, Int32Array.from([0, 0, 0, 9]), status), -ENODEV);
    assert.equal(
      b.movePages(1, Float64Array.from([3]), 1, Int32Array.from([1]), status),
      -EACCES,
      'outside the cpuset',
    );
    assert.equal(host.frames.nodeOf(host.pfnAt(host.spaces[0].base + 3)), 0);
    const free = new SimTieringBackend(host, {
      processes: [{ asId: 0, policy: { mode: 'default', nodes: [] }, cpuset: null }],
      ratio: null,
    });
    assert.equal(free.movePages(1, Float64Array.from([0]), 1, Int32Array.from([1]), status), 0);
    assert.equal(status[0], 1);
    assert.equal(host.frames.nodeOf(host.pfnAt(host.spaces[0].base)), 1);
    assert.equal(host.ledger.count(0, MR.userspace), 1);
    assert.equal(verifyHost(host), null);
  });
});
