import assert from 'node:assert/strict';
import fs from 'node:fs';
import process from 'node:process';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { UserspaceController } from '../src/controller/controller.js';
import { ENOENT, ESRCH } from '../src/controller/interface.js';
import {
  HostBackend,
  type MoveCall,
  decodePagemap,
  parseMaps,
  parseStartTime,
  processPolicy,
} from '../src/controller/real/host-backend.js';
import { probeHost } from '../src/controller/real/probe.js';
import { BatchedMovePages, MOVE_BATCH, loadSyscalls } from '../src/controller/real/syscalls.js';
import { parseList } from '../src/inspect/sysfs.js';
import { InputError } from '../src/util/errors.js';
import { FakeHost, type FakeNode } from './real-host-support.js';

/**
 * The real host's backend (src/controller/real/) against fake hosts built as file trees in a
 * temporary directory (test/real-host-support.ts), with move_pages(2) answered by the fake kernel
 * there: the controller run on it holds the ratio with either access tracker, a reused pid is
 * never moved, and the probe refuses or warns as it should. Plus the pieces: parsers, pagemap
 * decoding, the batching of move_pages, and one real move_pages query of this process.
 */

const hosts: FakeHost[] = [];
after(() => hosts.forEach((h) => h.remove()));

const TWO_TIERS: FakeNode[] = [
  { id: 0, cpu: true, tier: 1, frames: 100000 },
  { id: 1, cpu: false, tier: 4, frames: 100000 },
];

function fakeHost(nodes = TWO_TIERS, cgroups = ['/g', '/g/sub', '/other']): FakeHost {
  const h = new FakeHost(nodes, cgroups);
  hosts.push(h);
  return h;
}

const PID = 5150;
/** A sparse address space: two data VMAs a million pages apart, a guard page and the vDSO. */
const VMAS = [
  { startPage: 1024, pages: 200 },
  { startPage: 1224, pages: 1, perms: '---p' },
  { startPage: 1 << 20, pages: 200 },
  { startPage: (1 << 20) + 300, pages: 2, perms: 'r-xp', name: '[vdso]' },
];
const DATA_PAGES = [...range(1024, 1224), ...range(1 << 20, (1 << 20) + 200)];

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function backendOf(h: FakeHost, tracking: 'page_idle' | 'soft_dirty', ratio = '1:3'): HostBackend {
  return new HostBackend({
    root: h.root,
    syscalls: h.syscalls,
    managed: [{ path: '/g', tierRatio: ratio }],
    tracking,
    writer: h.writer,
  });
}

describe('HostBackend: the controller on a fixture host', () => {
  for (const tracking of ['page_idle', 'soft_dirty'] as const) {
    it(`${tracking}: converges to the ratio and keeps the written pages fast`, () => {
      const h = fakeHost();
      // Everything starts on the fast node; 60 pages (spread over both VMAs) are written all the time.
      h.addProcess({ pid: PID, cgroup: '/g', vmas: VMAS, resident: DATA_PAGES.map((v) => [v, 0]) });
      const hot = DATA_PAGES.filter((_, i) => i % 7 === 3).slice(0, 60);
      const b = backendOf(h, tracking);
      const c = new UserspaceController(b, h.clock(), { periodMs: 100, bandwidthMBps: 2, scanPages: 150 });
      const quota = Math.ceil(0.25 * DATA_PAGES.length);
      const fastShare: number[] = [];
      for (let period = 0; period < 60; period++) {
        h.accessMany(PID, hot);
        h.now += 100;
        c.step();
        fastShare.push(h.pagesOn('/g', 0));
      }
      assert.deepEqual(fastShare.slice(-5), Array(5).fill(quota), 'at the quota, period after period');
      const hotFast = hot.filter((v) => h.nodeOf(PID, v) === 0).length;
      assert.ok(hotFast >= 0.9 * hot.length, `${hotFast} of ${hot.length} written pages fast`);
      const g = c.stats.groups.get('/g');
      assert.ok(g !== undefined);
      assert.equal(g.target, 0.25);
      assert.equal(g.quotaPages, quota);
      assert.equal(g.currentPages, DATA_PAGES.length);
      assert.equal(g.demoted - g.promoted, DATA_PAGES.length - quota);
      assert.equal(g.failed, 0);
      assert.ok(!c.stats.groups.has('/g/sub'), 'a descendant without a ratio is not steered');
      const clears = h.writes.filter((w) => w.path === `/proc/${PID}/clear_refs`).length;
      assert.equal(
        clears,
        tracking === 'soft_dirty' ? 60 : 0,
        'clear_refs once per period in soft_dirty mode',
      );
      b.close();
    });
  }

  it('walks the VMAs: never looks at the gap, the guard page or the vDSO', () => {
    const h = fakeHost();
    h.addProcess({ pid: PID, cgroup: '/g', vmas: VMAS, resident: DATA_PAGES.map((v) => [v, 0]) });
    const asked = new Set<number>();
    const inner = h.syscalls.movePages;
    const b = new HostBackend({
      root: h.root,
      syscalls: {
        movePages: (pid, pages, count, nodes, status) => {
          for (let i = 0; i < count; i++) asked.add(pages[i]);
          return inner(pid, pages, count, nodes, status);
        },
      },
      managed: [{ path: '/g', tierRatio: '1:3' }],
      tracking: 'soft_dirty',
      writer: h.writer,
    });
    const c = new UserspaceController(b, h.clock(), { periodMs: 100, bandwidthMBps: 1, scanPages: 150 });
    for (let i = 0; i < 3; i++) c.step();
    assert.deepEqual(
      [...asked].sort((x, y) => x - y),
      DATA_PAGES,
    );
    assert.equal(c.stats.scannedPages, 3 * 150);
  });
});

describe('HostBackend: pids are reused', () => {
  function seen(tracking: 'page_idle' | 'soft_dirty' = 'page_idle') {
    const h = fakeHost();
    h.addProcess({ pid: PID, cgroup: '/g', vmas: VMAS, resident: DATA_PAGES.map((v) => [v, 0]) });
    const b = backendOf(h, tracking);
    assert.deepEqual(b.readCgroupFile('/g', 'cgroup.procs'), `${PID}\n`);
    return { h, b };
  }
  const two = () => ({ pages: Float64Array.from([1024, 1025]), nodes: Int32Array.from([1, 1]) });

  it('the same process moves; a new start time under the same pid moves nothing (-ESRCH)', () => {
    const h = fakeHost();
    h.addProcess({ pid: PID, cgroup: '/g', vmas: VMAS, resident: DATA_PAGES.map((v) => [v, 0]) });
    const calls: MoveCall[] = [];
    const b = new HostBackend({
      root: h.root,
      syscalls: h.syscalls,
      managed: [{ path: '/g', tierRatio: '1:3' }],
      tracking: 'page_idle',
      writer: h.writer,
      onMove: (e) => calls.push(e),
    });
    b.readCgroupFile('/g', 'cgroup.procs');
    const { pages, nodes } = two();
    const status = new Int32Array(2);
    assert.equal(b.movePages(PID, pages, 1, nodes, status), 0);
    assert.equal(h.nodeOf(PID, 1024), 1);
    h.setStartTime(PID, 777777);
    status.fill(42);
    assert.equal(b.movePages(PID, pages.subarray(1), 1, nodes, status), -ESRCH);
    assert.equal(h.nodeOf(PID, 1025), 0);
    assert.deepEqual([...status], [42, 42], 'no status written');
    assert.equal(h.moveCalls, 1, 'the kernel was not asked');
    // A query changes nothing and is still answered.
    assert.equal(b.movePages(PID, pages, 2, null, status), 0);
    assert.deepEqual([...status], [1, 0]);
    assert.deepEqual(
      calls.map(({ ms: _ms, ...c }) => c),
      [
        { pid: PID, cgroup: '/g', node: 1, pages: 1, moved: 1, failed: 0, errnos: {}, result: 0 },
        {
          pid: PID,
          cgroup: '/g',
          node: 1,
          pages: 1,
          moved: 0,
          failed: 1,
          errnos: { [ESRCH]: 1 },
          result: -ESRCH,
        },
      ],
      'each call with nodes reported, queries not',
    );
  });

  it('a process that left the managed cgroups, or one never seen in them, is not moved', () => {
    const { h, b } = seen();
    const { pages, nodes } = two();
    const status = new Int32Array(2);
    h.setCgroup(PID, '/g/sub');
    assert.equal(b.movePages(PID, pages, 1, nodes, status), 0, 'a descendant is still managed');
    h.setCgroup(PID, '/other');
    assert.equal(b.movePages(PID, pages, 2, nodes, status), -ESRCH);
    h.addProcess({ pid: 99, cgroup: '/g', vmas: VMAS, resident: [[1024, 0]] });
    assert.equal(b.movePages(99, pages, 1, nodes, status), -ESRCH, 'cgroup.procs not read since it came');
    assert.equal(h.moveCalls, 1);
  });

  for (const tracking of ['page_idle', 'soft_dirty'] as const) {
    it(`${tracking}: the controller counts the pages as failed by ESRCH and tries no other node`, () => {
      const { h, b } = seen(tracking);
      // Between the scan's query and the move, the process exits and another takes its pid.
      h.onQuery = (pid) => h.setStartTime(pid, 888888);
      const c = new UserspaceController(b, h.clock(), { periodMs: 100, bandwidthMBps: 1, scanPages: 1000 });
      c.step();
      const budget = Math.floor(((1 * 2 ** 20) / 4096) * 0.1);
      assert.equal(h.moveCalls, 0);
      assert.equal(c.stats.demotedPages, 0);
      assert.equal(c.stats.failedByErrno.get(ESRCH), budget);
      assert.equal(c.stats.groups.get('/g')?.failed, budget);
      assert.equal(h.pagesOn('/g', 0), DATA_PAGES.length);
      assert.ok(!h.writes.some((w) => w.path.endsWith('/clear_refs')), 'clear_refs of a stranger refused');
    });
  }
});

describe('HostBackend: files and input', () => {
  it('memory.tier_ratio from the configuration, "max" below; other cgroups are not visible', () => {
    const h = fakeHost();
    const b = backendOf(h, 'page_idle', '0.4');
    assert.deepEqual(b.cgroups(), ['/g', '/g/sub']);
    assert.equal(b.readCgroupFile('/g', 'memory.tier_ratio'), '0.4\n');
    assert.equal(b.readCgroupFile('/g/sub', 'memory.tier_ratio'), 'max\n');
    assert.throws(() => b.readCgroupFile('/other', 'memory.current'), /not a managed cgroup/);
    assert.throws(() => b.readCgroupFile('/g', 'memory.nonsense'), /no such file/);
  });

  it('a managed cgroup that is not there yet is left out until it appears', () => {
    const h = fakeHost();
    const b = new HostBackend({
      root: h.root,
      syscalls: h.syscalls,
      managed: [
        { path: '/later', tierRatio: '1:1' },
        { path: '/g', tierRatio: '1:3' },
      ],
      tracking: 'soft_dirty',
      writer: h.writer,
    });
    assert.deepEqual(b.cgroups(), ['/g', '/g/sub']);
    fs.mkdirSync(h.at('/sys/fs/cgroup/later'));
    assert.deepEqual(b.cgroups(), ['/g', '/later', '/g/sub']);
  });

  it('refuses a managed path or ratio that is not one, naming it', () => {
    const h = fakeHost();
    const make = (p: string, r = '1:3') =>
      new HostBackend({
        root: h.root,
        syscalls: h.syscalls,
        managed: [{ path: p, tierRatio: r }],
        tracking: 'soft_dirty',
        writer: h.writer,
      });
    for (const bad of ['tenant', '/a/../b', '/', '/a//b'])
      assert.throws(
        () => make(bad),
        (e: unknown) => e instanceof InputError && e.message.includes(JSON.stringify(bad)),
      );
    assert.throws(
      () => make('/g', '3:0'),
      (e: unknown) => e instanceof InputError && e.message.includes('/g'),
    );
  });

  it('page_idle bitmap: marks set exactly the frames asked, written in runs that skip far words', () => {
    const h = fakeHost();
    const b = backendOf(h, 'page_idle');
    // A bitmap of 200 words all set: words the backend does not write keep their bits.
    h.put('/sys/kernel/mm/page_idle/bitmap', Buffer.alloc(200 * 8, 0xff));
    const pfns = Float64Array.from([0 * 64 + 3, 5 * 64 + 63, 100 * 64 + 7, 5 * 64 + 1]);
    b.pageIdleMark(pfns, pfns.length);
    const bytes = fs.readFileSync(h.at('/sys/kernel/mm/page_idle/bitmap'));
    const word = (w: number) => bytes.readBigUInt64LE(w * 8);
    assert.equal(word(0), 1n << 3n);
    assert.equal(word(5), (1n << 63n) | (1n << 1n));
    for (const w of [1, 2, 3, 4]) assert.equal(word(w), 0n, `gap word ${w} written as zeros`);
    for (const w of [6, 50, 99, 101, 199]) assert.equal(word(w), 2n ** 64n - 1n, `word ${w} untouched`);
    assert.equal(word(100), 1n << 7n);
    const idle = new Uint8Array(5);
    b.pageIdleRead(Float64Array.from([3, 4, 5 * 64 + 63, 6 * 64, -1]), 5, idle);
    assert.deepEqual([...idle], [1, 0, 1, 1, 0]);
    b.close();
  });

  it('a process gone: no mappings, default policy, pagemap reads absent', () => {
    const h = fakeHost();
    const b = backendOf(h, 'soft_dirty');
    assert.deepEqual(b.mappings(31337), []);
    assert.equal(b.numaMapsPolicy(31337), 'default');
    const pfns = new Float64Array(3).fill(7);
    const dirty = new Uint8Array(3).fill(1);
    b.pagemap(31337, 0, 3, pfns, dirty);
    assert.deepEqual([...pfns], [-1, -1, -1]);
    assert.deepEqual([...dirty], [0, 0, 0]);
  });

  it("the process's policy from numa_maps reaches the controller (bind to the slow node: left alone)", () => {
    const h = fakeHost();
    h.addProcess({
      pid: PID,
      cgroup: '/g',
      vmas: VMAS,
      resident: DATA_PAGES.map((v) => [v, 0]),
      policy: 'bind:0',
    });
    const b = backendOf(h, 'soft_dirty');
    assert.equal(b.numaMapsPolicy(PID), 'bind:0');
    const c = new UserspaceController(b, h.clock(), { periodMs: 100, bandwidthMBps: 100, scanPages: 1000 });
    c.step();
    assert.equal(h.pagesOn('/g', 0), DATA_PAGES.length);
    assert.equal(h.moveCalls, 0);
  });
});

describe('parsers of procfs text', () => {
  it('/proc/PID/stat: field 22 even when comm holds spaces and parentheses', () => {
    const rest = Array.from({ length: 40 }, (_, i) => String(i + 3));
    rest[19] = '123456789';
    assert.equal(parseStartTime(`77 (a) (b c) ${rest.join(' ')}`), '123456789');
    assert.equal(parseStartTime('77 (x) S 1'), null);
    assert.equal(parseStartTime('garbage'), null);
  });

  it('/proc/PID/maps: readable VMAs in address order, kernel mappings left out', () => {
    const text = [
      '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]',
      '00400000-00401000 r--p 00000000 08:01 1234                               /usr/bin/x',
      '00401000-00402000 ---p 00000000 00:00 0 ',
      '7ffd00100000-7ffd00102000 r--p 00000000 00:00 0                          [vvar]',
      '7ffd00102000-7ffd00104000 r-xp 00000000 00:00 0                          [vdso]',
      'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
      '',
    ].join('\n');
    assert.deepEqual(parseMaps(text), [
      { startPage: 0x400, pages: 1, fastHint: false },
      { startPage: 0x7ffd00000, pages: 0x21, fastHint: false },
    ]);
  });

  it('numa_maps: the policy most VMAs show, the lowest address on a tie, "default" for none', () => {
    assert.equal(processPolicy('1000 bind:1 anon=1\n2000 default\n3000 bind:1 N1=2\n'), 'bind:1');
    assert.equal(processPolicy('1000 interleave:0-1\n2000 default\n'), 'interleave:0-1');
    assert.equal(processPolicy(''), 'default');
  });

  it('pagemap: present bit, soft-dirty bit and frame survive decoding; frame 0 is present', () => {
    const entry = fc.record({
      present: fc.boolean(),
      dirty: fc.boolean(),
      pfn: fc.bigInt({ min: 0n, max: (1n << 55n) - 1n }),
    });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 64 }), (es) => {
        const bytes = new Uint8Array(es.length * 8 + 8).subarray(8);
        const dv = new DataView(bytes.buffer, bytes.byteOffset);
        es.forEach((e, i) =>
          dv.setBigUint64(i * 8, (e.present ? 1n << 63n : 0n) | (e.dirty ? 1n << 55n : 0n) | e.pfn, true),
        );
        const pfns = new Float64Array(es.length);
        const dirty = new Uint8Array(es.length);
        decodePagemap(bytes, es.length, pfns, dirty);
        es.forEach((e, i) => {
          assert.equal(pfns[i], e.present ? Number(e.pfn) : -1);
          assert.equal(dirty[i], e.dirty ? 1 : 0);
        });
      }),
    );
  });
});

describe('move_pages(2) in batches', () => {
  it('splits into calls of at most MOVE_BATCH pages, passes exact addresses and sums the pages not moved', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 36 - 1 }), { minLength: 1, maxLength: 3 * MOVE_BATCH + 7 }),
        fc.boolean(),
        (vpns, move) => {
          const seenAddr: bigint[] = [];
          const seenNodes: number[] = [];
          let calls = 0;
          const s = new BatchedMovePages((_pid, count, addr, nodes, status) => {
            calls++;
            assert.ok(count <= MOVE_BATCH);
            assert.equal(nodes === null, !move);
            const dv = new DataView(addr.buffer, addr.byteOffset);
            for (let i = 0; i < count; i++) {
              seenAddr.push(dv.getBigUint64(i * 8, true));
              if (nodes !== null) seenNodes.push(nodes[i]);
              status[i] = i % 3 === 0 ? -ENOENT : 1;
            }
            return move ? Math.ceil(count / 3) : 0;
          });
          const pages = Float64Array.from(vpns);
          const nodes = move ? Int32Array.from(vpns, (v) => v % 4) : null;
          const status = new Int32Array(vpns.length);
          const r = s.movePages(1, pages, vpns.length, nodes, status);
          assert.equal(calls, Math.ceil(vpns.length / MOVE_BATCH));
          assert.deepEqual(
            seenAddr,
            vpns.map((v) => BigInt(v) * 4096n),
          );
          if (move) assert.deepEqual(seenNodes, [...(nodes as Int32Array)]);
          const perBatch = (n: number) => Math.ceil(n / 3);
          let expect = 0;
          for (let off = 0; off < vpns.length; off += MOVE_BATCH)
            expect += perBatch(Math.min(MOVE_BATCH, vpns.length - off));
          assert.equal(r, move ? expect : 0);
          assert.equal(status[0], -ENOENT);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('an error for a whole batch ends the call: later batches are not tried, their statuses kept', () => {
    let calls = 0;
    const s = new BatchedMovePages((_pid, count, _addr, _nodes, status) => {
      calls++;
      if (calls === 2) {
        status[0] = 0; // the kernel moved the pages before the bad node
        return -13;
      }
      status.fill(1, 0, count);
      return 0;
    });
    const n = 2 * MOVE_BATCH + 10;
    const status = new Int32Array(n).fill(-99);
    assert.equal(s.movePages(1, new Float64Array(n), n, new Int32Array(n).fill(1), status), -13);
    assert.equal(calls, 2);
    assert.equal(status[MOVE_BATCH - 1], 1);
    assert.equal(status[MOVE_BATCH], 0);
    assert.equal(status[MOVE_BATCH + 1], -99, 'not reached by the kernel: the caller’s value');
    assert.equal(status[n - 1], -99);
  });

  const native = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');
  it(
    'through koffi on this machine: a query of our own resident pages names online nodes',
    { skip: !native },
    () => {
      const maps = parseMaps(fs.readFileSync('/proc/self/maps', 'utf8'));
      const pages: number[] = [];
      for (const m of maps)
        for (let v = m.startPage; v < m.startPage + m.pages && pages.length < 20000; v++) pages.push(v);
      const raw = Buffer.alloc(pages.length * 8);
      const fd = fs.openSync('/proc/self/pagemap', 'r');
      const pfns = new Float64Array(pages.length);
      pages.forEach((v, i) => fs.readSync(fd, raw, i * 8, 8, v * 8));
      fs.closeSync(fd);
      decodePagemap(raw, pages.length, pfns);
      const present = pages.filter((_, i) => pfns[i] >= 0);
      assert.ok(present.length > 0);
      const status = new Int32Array(present.length);
      assert.equal(
        loadSyscalls().movePages(process.pid, Float64Array.from(present), present.length, null, status),
        0,
      );
      const online = new Set(parseList(fs.readFileSync('/sys/devices/system/node/online', 'utf8')) ?? [0]);
      const onNode = [...status].filter((s) => s >= 0);
      assert.ok(onNode.every((s) => online.has(s)));
      assert.ok(
        onNode.length >= 0.9 * present.length,
        `${onNode.length} of ${present.length} resident pages`,
      );
    },
  );
});

describe('probeHost', () => {
  it('a two-tier privileged cgroup v2 host with page_idle: may start, page_idle chosen, no warning', () => {
    const h = fakeHost();
    const p = probeHost(h.root);
    assert.deepEqual(p.refusals, []);
    assert.deepEqual(p.warnings, []);
    assert.equal(p.tracking, 'page_idle');
    assert.deepEqual(
      p.tiers.map((t) => t.nodes),
      [[0], [1]],
    );
    assert.ok(p.cgroupV2 && p.privileged && p.pageIdle && p.softDirty);
    assert.equal(p.demotionEnabled, false, 'demotion off: no warning, the controller moves pages itself');
    assert.equal(p.numaBalancing, 0);
  });

  it('no page_idle bitmap (Debian): soft-dirty, with a warning that it sees writes only', () => {
    const h = fakeHost();
    fs.rmSync(h.at('/sys/kernel/mm/page_idle/bitmap'));
    const p = probeHost(h.root);
    assert.equal(p.tracking, 'soft_dirty');
    assert.deepEqual(p.refusals, []);
    assert.equal(p.warnings.length, 1);
    assert.match(p.warnings[0], /writes only/);
  });

  const refusedBy: [string, (h: FakeHost) => void, RegExp][] = [
    ['one memory tier', () => {}, /one memory tier only/],
    [
      'cgroup v1',
      (h) => {
        fs.rmSync(h.at('/sys/fs/cgroup/cgroup.controllers'));
        fs.mkdirSync(h.at('/sys/fs/cgroup/memory'));
      },
      /cgroup v1 only/,
    ],
    ['no capabilities', (h) => h.put('/proc/self/status', 'CapEff:\t0000000000000000\n'), /not privileged/],
    [
      'CAP_SYS_ADMIN without CAP_SYS_NICE',
      (h) => h.put('/proc/self/status', 'CapEff:\t0000000000200000\n'),
      /not privileged/,
    ],
    [
      'no tracker at all',
      (h) => {
        fs.rmSync(h.at('/sys/kernel/mm/page_idle/bitmap'));
        fs.rmSync(h.at('/proc/self/clear_refs'));
      },
      /no access tracking/,
    ],
  ];
  for (const [name, spoil, why] of refusedBy)
    it(`refuses: ${name}`, () => {
      const h =
        name === 'one memory tier'
          ? fakeHost([
              { id: 0, cpu: true, tier: 4, frames: 10 },
              { id: 1, cpu: false, tier: 4, frames: 10 },
            ])
          : fakeHost();
      spoil(h);
      const p = probeHost(h.root);
      assert.equal(p.refusals.length, 1, p.refusals.join('; '));
      assert.match(p.refusals[0], why);
      assert.ok(!p.refusals[0].includes('\n'), 'one line');
    });

  it('warns when numa_balancing has memory tiering on (2 or 3), not for classic balancing (1)', () => {
    for (const [mode, warn] of [
      [1, false],
      [2, true],
      [3, true],
    ] as const) {
      const h = fakeHost();
      h.put('/proc/sys/kernel/numa_balancing', `${mode}\n`);
      const p = probeHost(h.root);
      assert.equal(p.numaBalancing, mode);
      assert.equal(p.refusals.length, 0);
      assert.equal(
        p.warnings.some((w) => /numa_balancing/.test(w)),
        warn,
        `mode ${mode}`,
      );
    }
  });

  it('DAMON: present with its kdamonds directory, operations from an existing context', () => {
    const h = fakeHost();
    assert.deepEqual(probeHost(h.root).damon, { present: false, ops: [] });
    h.put('/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds', '0\n');
    assert.deepEqual(probeHost(h.root).damon, { present: true, ops: [] });
    h.put('/sys/kernel/mm/damon/admin/kdamonds/0/contexts/0/avail_operations', 'vaddr fvaddr paddr\n');
    assert.deepEqual(probeHost(h.root).damon, { present: true, ops: ['vaddr', 'fvaddr', 'paddr'] });
  });
});
