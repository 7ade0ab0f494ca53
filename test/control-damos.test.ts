import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveControlConfig, type ControlConfig } from '../src/controller/config.js';
import { restoreJournal, runControl } from '../src/controller/run.js';
import { armingWrites, kdamondWrites, nodeMemoryRanges, planDamos } from '../src/controller/real/damos.js';
import fc from 'fast-check';
import { DamonVaddrTracker, vmaRuns } from '../src/controller/real/damon-vaddr.js';
import { HostFiles } from '../src/inspect/sysfs.js';
import { InputError } from '../src/util/errors.js';
import { type FakeHost, TENANT_PID, tenantHost } from './real-host-support.js';

/**
 * `ratio.strategy: damos` on a fake host. The files a kernel creates when nr_kdamonds,
 * nr_contexts, nr_targets, nr_regions, nr_schemes, nr_goals and nr_filters are written are laid
 * out beforehand (a plain file tree cannot create them), so what is checked is what numatier
 * writes into them, what it feeds the goals from memory.numa_stat, what it reads back from the
 * schemes' stats, and that restore turns the kdamond off and removes it. The kernel's side —
 * DAMON moving pages — is checked on a real kernel in test/e2e/control-guest.test.ts.
 */

const hosts: FakeHost[] = [];
after(() => hosts.forEach((h) => h.remove()));

const PID = TENANT_PID;
const KD = '/sys/kernel/mm/damon/admin/kdamonds';
const C = `${KD}/0/contexts/0`;
/** 128 MiB memory blocks: node 0 has blocks 0–3 (0–512 MiB), node 1 blocks 4–5 and 7 (a hole at 6). */
const BLOCK = 0x8000000;

function host(o: { release?: string; nrKdamonds?: string; children?: boolean } = {}): FakeHost {
  const h = tenantHost(o.children === true ? ['/tenant', '/tenant/inner'] : ['/tenant']);
  hosts.push(h);
  h.put('/proc/sys/kernel/osrelease', `${o.release ?? '6.12.57+deb13-cloud-amd64'}\n`);
  h.put('/sys/devices/system/memory/block_size_bytes', `${BLOCK.toString(16)}\n`);
  for (const [node, blocks] of [
    [0, [0, 1, 2, 3]],
    [1, [4, 5, 7]],
  ] as const)
    for (const b of blocks) fs.mkdirSync(h.at(`/sys/devices/system/node/node${node}/memory${b}`));
  h.put(`${KD}/nr_kdamonds`, `${o.nrKdamonds ?? '0'}\n`);
  return h;
}

/** What the kernel would have created for one kdamond with `schemes` schemes of `filters` filters. */
function kernelCreates(h: FakeHost, schemes: number, filters: number, regions: number): void {
  h.put(`${KD}/0/state`, 'off\n');
  h.put(`${KD}/0/contexts/nr_contexts`, '0\n');
  for (const f of [
    'operations',
    'monitoring_attrs/intervals/sample_us',
    'monitoring_attrs/intervals/aggr_us',
    'monitoring_attrs/nr_regions/min',
    'monitoring_attrs/nr_regions/max',
  ])
    h.put(`${C}/${f}`, '\n');
  h.put(`${C}/targets/nr_targets`, '0\n');
  h.put(`${C}/targets/0/regions/nr_regions`, '0\n');
  for (let r = 0; r < regions; r++)
    for (const f of ['start', 'end']) h.put(`${C}/targets/0/regions/${r}/${f}`, '0\n');
  h.put(`${C}/schemes/nr_schemes`, '0\n');
  for (let s = 0; s < schemes; s++) {
    const d = `${C}/schemes/${s}`;
    for (const f of [
      'action',
      'target_nid',
      'access_pattern/sz/min',
      'access_pattern/sz/max',
      'access_pattern/nr_accesses/min',
      'access_pattern/nr_accesses/max',
      'access_pattern/age/min',
      'access_pattern/age/max',
      'quotas/ms',
      'quotas/bytes',
      'quotas/reset_interval_ms',
      'quotas/effective_bytes',
      'quotas/weights/sz_permil',
      'quotas/weights/nr_accesses_permil',
      'quotas/weights/age_permil',
      'quotas/goals/nr_goals',
      'quotas/goals/0/target_metric',
      'quotas/goals/0/target_value',
      'quotas/goals/0/current_value',
      'watermarks/metric',
      'filters/nr_filters',
      'stats/sz_applied',
    ])
      h.put(`${d}/${f}`, '0\n');
    for (let i = 0; i < filters; i++)
      for (const f of ['type', 'memcg_path', 'matching', 'addr_start', 'addr_end'])
        h.put(`${d}/filters/${i}/${f}`, '\n');
  }
}

function config(h: FakeHost, ratio = '1:3', extra: Record<string, unknown> = {}): ControlConfig {
  return resolveControlConfig(
    {
      cgroups: [{ path: '/tenant', 'memory.tier_ratio': ratio }],
      ratio: { strategy: 'damos', damos: { period_ms: 5, bandwidth_MBps: 100, ...extra } },
      kernel: { numa_balancing: 0 },
      journal: path.join(h.root, 'state', 'journal.json'),
      log: path.join(h.root, 'state', 'control.jsonl'),
    },
    'control.yaml',
  );
}

const read = (h: FakeHost, p: string): string => fs.readFileSync(h.at(p), 'utf8').trim();
const events = (c: ControlConfig): { event: string; [k: string]: unknown }[] =>
  fs
    .readFileSync(c.log ?? '', 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string });

/** Moves `n` of the tenant's pages to `node`, as DAMON's migration would. */
function kernelMoves(h: FakeHost, n: number, node: number): void {
  const pages = new Float64Array(n);
  const nodes = new Int32Array(n).fill(node);
  let k = 0;
  for (const [v, pg] of h.procs.get(PID)?.pages ?? []) if (pg.node !== node && k < n) pages[k++] = v;
  h.syscalls.movePages(PID, pages, k, nodes, new Int32Array(k));
}

describe('numatier control with ratio.strategy damos', () => {
  it("reads each node's physical ranges from its memory blocks, a hole splitting a range", () => {
    const h = host();
    const f = new HostFiles(h.root);
    assert.deepEqual(nodeMemoryRanges(f, 0), [{ start: 0, end: 4 * BLOCK }]);
    assert.deepEqual(nodeMemoryRanges(f, 1), [
      { start: 4 * BLOCK, end: 6 * BLOCK },
      { start: 7 * BLOCK, end: 8 * BLOCK },
    ]);
  });

  it('plans a demoting and a promoting scheme per group, only the one a share of 0 or 1 needs', () => {
    const h = host();
    const f = new HostFiles(h.root);
    const b = {
      memoryTiers: () => [
        { id: 1, nodes: [0] },
        { id: 4, nodes: [1] },
      ],
      cpuNodes: () => [0],
    };
    const host_ = { ...b, readCgroupFile: () => '' };
    const opts = config(h).damos;
    const o = { periodMs: 5, bandwidthMBps: 100, ...opts };
    const plan = planDamos(f, host_, [{ path: '/tenant', fraction: 0.25 }], o);
    assert.deepEqual(
      plan.schemes.map((s) => [s.action, s.targetNid, s.targetBp]),
      [
        ['migrate_cold', 1, 7500],
        ['migrate_hot', 0, 2500],
      ],
    );
    // 100 MB/s over one charge window, shared by the two schemes, in whole pages.
    assert.equal(plan.quotaBytes, Math.floor((100 * 2 ** 20 * (o.resetIntervalMs / 1000)) / 2 / 4096) * 4096);

    const only = (fraction: number) =>
      planDamos(f, host_, [{ path: '/tenant', fraction }], o).schemes.map((s) => s.action);
    assert.deepEqual(only(1), ['migrate_hot']);
    assert.deepEqual(only(0), ['migrate_cold']);
    const w = new Map(kdamondWrites('0', plan, o));
    // The demoting scheme rejects what is not the cgroup's and what is already slow.
    const s0 = `${C}/schemes/0`;
    assert.equal(w.get(`${s0}/filters/nr_filters`), '3');
    assert.equal(w.get(`${s0}/filters/0/type`), 'memcg');
    assert.equal(w.get(`${s0}/filters/0/matching`), 'N');
    assert.equal(w.get(`${s0}/filters/1/addr_start`), String(4 * BLOCK));
    assert.equal(w.get(`${s0}/filters/2/addr_end`), String(8 * BLOCK));
    assert.equal(w.get(`${s0}/filters/2/matching`), 'Y');
    assert.equal(w.get(`${s0}/access_pattern/nr_accesses/max`), '0');
    // Unarmed, no scheme matches a region (age min = max); armed, the demoting one waits min_age_ms.
    assert.equal(w.get(`${s0}/access_pattern/age/min`), '4294967295');
    assert.deepEqual(
      armingWrites('0', plan, o).map(([p, v]) => [p.slice(C.length), v]),
      [
        ['/schemes/0/access_pattern/age/min', String(Math.ceil((o.minAgeMs * 1000) / o.aggrUs))],
        ['/schemes/1/access_pattern/age/min', '0'],
      ],
    );
    const s1 = `${C}/schemes/1`;
    assert.equal(w.get(`${s1}/filters/nr_filters`), '2');
    assert.equal(w.get(`${s1}/filters/1/addr_end`), String(4 * BLOCK));
    assert.equal(w.get(`${s1}/access_pattern/nr_accesses/min`), '1');
    // Regions cover all memory (a paddr target without regions monitors nothing).
    assert.equal(w.get(`${C}/targets/0/regions/nr_regions`), '2');
    assert.equal(w.get(`${C}/targets/0/regions/0/end`), String(6 * BLOCK));
    assert.equal(w.get(`${C}/targets/0/regions/1/start`), String(7 * BLOCK));
    assert.throws(
      () => planDamos(f, host_, [{ path: '/tenant', fraction: 0.25 }], { ...o, demoteNode: 0 }),
      /demote_node: node 0 is not below the top tier/,
    );
  });

  it('--apply starts the kdamond, feeds the goals from memory.numa_stat, counts what it moved, and restore removes it', async () => {
    const h = host();
    kernelCreates(h, 2, 3, 2);
    const c = config(h);
    const stop = new AbortController();
    const seen: { demoteFeed: string; promoteFeed: string }[] = [];
    const done = runControl({
      config: c,
      apply: true,
      once: false,
      metrics: null,
      root: h.root,
      syscalls: h.syscalls,
      signal: stop.signal,
      notice: () => {},
    });
    // The "kernel": demote 300 of the 400 pages, 100 between two periods, and count them.
    let movedPages = 0;
    for (let i = 0; i < 400; i++) {
      await new Promise((r) => setTimeout(r, 3));
      if (read(h, `${KD}/nr_kdamonds`) !== '1') continue;
      // The kernel has set the quotas: the controller may arm the schemes.
      for (const i of [0, 1]) h.put(`${C}/schemes/${i}/quotas/effective_bytes`, '4096\n');
      const feed = {
        demoteFeed: read(h, `${C}/schemes/0/quotas/goals/0/current_value`),
        promoteFeed: read(h, `${C}/schemes/1/quotas/goals/0/current_value`),
      };
      if (JSON.stringify(seen.at(-1)) !== JSON.stringify(feed)) seen.push(feed);
      if (movedPages >= 300 && feed.demoteFeed === '7500') break;
      if (movedPages < 300 && seen.length > movedPages / 100) {
        kernelMoves(h, 100, 1);
        movedPages += 100;
        h.put(`${C}/schemes/0/stats/sz_applied`, `${movedPages * 4096}\n`);
      }
    }
    const during = {
      nr: read(h, `${KD}/nr_kdamonds`),
      ops: read(h, `${C}/operations`),
      action0: read(h, `${C}/schemes/0/action`),
      memcg: read(h, `${C}/schemes/0/filters/0/memcg_path`),
      metric: read(h, `${C}/schemes/0/quotas/goals/0/target_metric`),
      target0: read(h, `${C}/schemes/0/quotas/goals/0/target_value`),
      target1: read(h, `${C}/schemes/1/quotas/goals/0/target_value`),
      ageMin0: read(h, `${C}/schemes/0/access_pattern/age/min`),
    };
    stop.abort();
    assert.equal(await done, 0);
    assert.deepEqual(during, {
      nr: '1',
      ops: 'paddr',
      action0: 'migrate_cold',
      memcg: '/tenant',
      metric: 'user_input',
      target0: '7500',
      target1: '2500',
      ageMin0: '2',
    });
    // All fast at first: slow share 0 fed to the demoting goal, fast share 10000 to the promoting one;
    // after the kernel's moves, 7500 and 2500.
    assert.deepEqual(seen[0], { demoteFeed: '0', promoteFeed: '10000' });
    assert.deepEqual(seen.at(-1), { demoteFeed: '7500', promoteFeed: '2500' });
    // Restored: kdamond off first, then removed; the knob back.
    assert.equal(read(h, `${KD}/0/state`), 'off');
    assert.equal(read(h, `${KD}/nr_kdamonds`), '0');
    assert.equal(read(h, '/proc/sys/kernel/numa_balancing'), '0');
    assert.equal(fs.existsSync(c.journal), false);
    const ev = events(c);
    const restores = ev.filter((e) => e.event === 'restore').map((e) => [e.path, e.value]);
    assert.deepEqual(restores.slice(0, 2), [
      [`${KD}/0/state`, 'off'],
      [`${KD}/nr_kdamonds`, '0'],
    ]);
    const commits = ev.filter(
      (e) => e.event === 'write' && e.path === `${KD}/0/state` && e.value === 'commit',
    );
    assert.equal(commits.length, 1, 'armed once');
    const start = ev.find((e) => e.event === 'start');
    assert.equal(start?.strategy, 'damos');
    assert.equal(start?.tracking, 'damon_paddr');
    const last = ev.filter((e) => e.event === 'step').at(-1) as unknown as {
      cgroups: { demoted: number; fast_share: number }[];
    };
    assert.equal(last.cgroups[0].demoted, 300, "the kernel's sz_applied, in pages");
    assert.equal(last.cgroups[0].fast_share, 0.25);
  });

  it('a dry run writes nothing, not even nr_kdamonds, and logs the configuration it would write', async () => {
    const h = host();
    const c = config(h);
    const status = await runControl({
      config: c,
      apply: false,
      once: true,
      metrics: null,
      root: h.root,
      syscalls: h.syscalls,
      notice: () => {},
    });
    assert.equal(status, 0);
    assert.equal(read(h, `${KD}/nr_kdamonds`), '0');
    assert.equal(fs.existsSync(h.at(`${KD}/0`)), false);
    assert.equal(fs.existsSync(c.journal), false);
    const writes = events(c).filter((e) => e.event === 'write');
    assert.ok(writes.every((w) => w.dry_run === true));
    assert.ok(writes.some((w) => w.path === `${C}/schemes/0/action` && w.value === 'migrate_cold'));
    assert.ok(writes.some((w) => w.path === `${KD}/0/state` && w.value === 'on'));
  });

  it('a crash leaves the kdamond journaled; --restore turns it off and removes it, or finds it gone', () => {
    for (const gone of [false, true]) {
      const h = host();
      const c = config(h);
      kernelCreates(h, 2, 3, 2);
      h.put(`${KD}/nr_kdamonds`, '1\n');
      h.put(`${KD}/0/state`, 'on\n');
      fs.mkdirSync(path.dirname(c.journal), { recursive: true });
      fs.writeFileSync(
        c.journal,
        JSON.stringify({
          format: 'numatier-journal',
          version: 1,
          numatier: '0',
          pid: 1,
          started: '2026-12-02T00:00:00Z',
          entries: [
            { path: `${KD}/nr_kdamonds`, original: '0' },
            { path: `${KD}/0/state`, original: 'off' },
          ],
        }),
      );
      // After a reboot the kdamond is gone: nothing to stop.
      if (gone) fs.rmSync(h.at(`${KD}/0`), { recursive: true });
      assert.equal(
        restoreJournal(c, h.root, () => {}),
        2,
      );
      assert.equal(read(h, `${KD}/nr_kdamonds`), '0');
      if (!gone) assert.equal(read(h, `${KD}/0/state`), 'off');
      assert.equal(fs.existsSync(c.journal), false);
    }
  });

  it("refuses another tool's kdamonds, an old kernel, and options of the other strategy, one line each", async () => {
    const start = (h: FakeHost, c: ControlConfig) =>
      runControl({
        config: c,
        apply: true,
        once: true,
        metrics: null,
        root: h.root,
        syscalls: h.syscalls,
        notice: () => {},
      });
    const busy = host({ nrKdamonds: '1' });
    await assert.rejects(start(busy, config(busy)), (e: unknown) => {
      assert.ok(e instanceof InputError && e.exitCode === 2);
      assert.match(e.message, /^refusing to start: DAMON already has 1 kdamond/);
      return true;
    });
    assert.equal(read(busy, '/proc/sys/kernel/numa_balancing'), '0', 'nothing written before refusing');
    assert.equal(fs.existsSync(config(busy).journal), false);
    const old = host({ release: '6.1.0-27-amd64' });
    await assert.rejects(
      start(old, config(old)),
      /need Linux 6\.11 or later; this kernel is 6\.1\.0-27-amd64/,
    );
    const h = host();
    assert.throws(
      () =>
        resolveControlConfig(
          { cgroups: [{ path: '/t', 'memory.tier_ratio': '1:3' }], ratio: { damos: { period_ms: 5 } } },
          'c.yaml',
        ),
      /c\.yaml: ratio\.damos: options of the damos strategy, but ratio\.strategy is userspace \(the default\); add ratio\.strategy: damos/,
    );
    assert.throws(() => config(h, '1:3', { sample_us: 10000, aggr_us: 5000 }), /ratio\.damos\.aggr_us/);
  });

  it('warns that a group with children is matched only for its own pages', async () => {
    const h = host({ children: true });
    kernelCreates(h, 2, 3, 2);
    const notices: string[] = [];
    await runControl({
      config: config(h),
      apply: false,
      once: true,
      metrics: null,
      root: h.root,
      syscalls: h.syscalls,
      notice: (l) => notices.push(l),
    });
    assert.match(notices.join('\n'), /\/tenant has child cgroups \(inner\).*list leaf groups/);
  });
});

describe('access_tracking damon_vaddr', () => {
  /** The kernel's files for one vaddr target with one stat scheme, and the regions it "saw". */
  function vaddrKernel(h: FakeHost, regions: [number, number, number, number][]): void {
    h.put(`${KD}/0/state`, 'off\n');
    h.put(`${KD}/0/contexts/nr_contexts`, '0\n');
    for (const f of [
      'operations',
      'monitoring_attrs/intervals/sample_us',
      'monitoring_attrs/intervals/aggr_us',
    ])
      h.put(`${C}/${f}`, '\n');
    h.put(`${C}/targets/nr_targets`, '0\n');
    h.put(`${C}/targets/0/pid_target`, '0\n');
    h.put(`${C}/targets/0/regions/nr_regions`, '0\n');
    for (const f of ['start', 'end']) h.put(`${C}/targets/0/regions/0/${f}`, '0\n');
    const d = `${C}/schemes/0`;
    h.put(`${C}/schemes/nr_schemes`, '0\n');
    for (const f of [
      'action',
      'access_pattern/sz/min',
      'access_pattern/sz/max',
      'access_pattern/nr_accesses/min',
      'access_pattern/nr_accesses/max',
      'access_pattern/age/min',
      'access_pattern/age/max',
      'filters/nr_filters',
      'filters/0/type',
      'filters/0/damon_target_idx',
      'filters/0/matching',
    ])
      h.put(`${d}/${f}`, '\n');
    regions.forEach(([start, end, acc, age], i) => {
      h.put(`${d}/tried_regions/${i}/start`, `${start * 4096}\n`);
      h.put(`${d}/tried_regions/${i}/end`, `${end * 4096}\n`);
      h.put(`${d}/tried_regions/${i}/nr_accesses`, `${acc}\n`);
      h.put(`${d}/tried_regions/${i}/age`, `${age}\n`);
    });
    h.put(`${d}/tried_regions/total_bytes`, '0\n');
  }

  it('marks a page idle unless it lies in a region DAMON saw accessed (checked against a plain scan)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 1, max: 50 }),
            fc.integer({ min: 0, max: 3 }),
            fc.integer({ min: 0, max: 20 }),
          ),
          {
            maxLength: 12,
          },
        ),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 200 }),
        (sizes, start, count) => {
          const h = host();
          let at = 4096;
          const regions: [number, number, number, number][] = sizes.map(([n, acc, age]) => {
            const r: [number, number, number, number] = [at, at + n, acc, age];
            at += n + (acc === 3 ? 5 : 0); // some gaps between regions
            return r;
          });
          vaddrKernel(h, regions);
          h.put(`${KD}/nr_kdamonds`, '1\n');
          h.put(`${KD}/0/state`, 'on\n');
          const writes: string[] = [];
          const t = new DamonVaddrTracker(
            new HostFiles(h.root),
            { write: (p, v) => void writes.push(`${p}=${v}`) },
            () => [{ startPage: 4096, pages: 1000 }],
            { kdamond: '0', sampleUs: 5000, aggrUs: 100000, periodMs: 1000, apply: true },
          );
          t.snapshot([PID]);
          const idle = new Uint8Array(count);
          t.idle(PID, 4096 + start, count, idle);
          for (let i = 0; i < count; i++) {
            const v = 4096 + start + i;
            const r = regions.find(([a, b]) => v >= a && v < b);
            // Idle: in no region, or unaccessed for 10 aggregations of 100 ms (the 1 s period).
            const busy = r !== undefined && (r[2] > 0 || r[3] < 10);
            assert.equal(idle[i], busy ? 0 : 1, `page ${v}`);
          }
          h.remove();
          hosts.splice(hosts.indexOf(h), 1);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('--apply creates a vaddr kdamond watching the tenant, keeps the pages DAMON saw accessed fast, and restore removes it', async () => {
    const h = host();
    // DAMON saw the first 100 pages accessed, the last 300 not (scan order alone would demote
    // the first ones first).
    vaddrKernel(h, [
      [4096, 4096 + 100, 5, 30],
      [4096 + 100, 4096 + 400, 0, 30],
    ]);
    const c = resolveControlConfig(
      {
        cgroups: [{ path: '/tenant', 'memory.tier_ratio': '1:3' }],
        ratio: { userspace: { period_ms: 5 } },
        access_tracking: 'damon_vaddr',
        journal: path.join(h.root, 'state', 'journal.json'),
        log: path.join(h.root, 'state', 'control.jsonl'),
      },
      'control.yaml',
    );
    const stop = new AbortController();
    const done = runControl({
      config: c,
      apply: true,
      once: false,
      metrics: null,
      root: h.root,
      syscalls: h.syscalls,
      signal: stop.signal,
      notice: () => {},
    });
    const onFast = () =>
      [...(h.procs.get(PID)?.pages ?? [])].filter(([, pg]) => pg.node === 0).map(([v]) => v);
    let during: Record<string, string | string[]> | null = null;
    for (let i = 0; i < 400 && onFast().length > 100; i++) {
      await new Promise((r) => setTimeout(r, 3));
      during ??=
        read(h, `${KD}/nr_kdamonds`) === '1'
          ? {
              ops: read(h, `${C}/operations`),
              pid: read(h, `${C}/targets/0/pid_target`),
              region: [read(h, `${C}/targets/0/regions/0/start`), read(h, `${C}/targets/0/regions/0/end`)],
              action: read(h, `${C}/schemes/0/action`),
              filter: read(h, `${C}/schemes/0/filters/0/type`),
            }
          : null;
    }
    stop.abort();
    assert.equal(await done, 0);
    assert.deepEqual(during, {
      ops: 'fvaddr',
      pid: String(PID),
      region: [String(4096 * 4096), String((4096 + 400) * 4096)],
      action: 'stat',
      filter: 'target',
    });
    const fast = onFast();
    assert.equal(fast.length, 100);
    assert.ok(
      fast.every((v) => v < 4096 + 100),
      'what DAMON saw accessed stayed fast',
    );
    assert.equal(read(h, `${KD}/nr_kdamonds`), '0');
    assert.equal(read(h, `${KD}/0/state`), 'off');
    assert.equal(fs.existsSync(c.journal), false);
    const start = events(c).find((e) => e.event === 'start');
    assert.equal(start?.tracking, 'damon_vaddr');
  });

  it("watches a process's VMAs as runs, closing the smallest gaps when there are too many", () => {
    const v = (startPage: number, pages: number) => ({ startPage, pages });
    assert.deepEqual(vmaRuns([v(30, 5), v(0, 10), v(10, 5), v(100, 1)], 8), [
      { start: 0, end: 15 },
      { start: 30, end: 35 },
      { start: 100, end: 101 },
    ]);
    // Gaps 15 (15..30) and 65 (35..100): two runs close the smaller.
    assert.deepEqual(vmaRuns([v(0, 15), v(30, 5), v(100, 1)], 2), [
      { start: 0, end: 35 },
      { start: 100, end: 101 },
    ]);
  });

  it('refuses without DAMON or with its kdamonds taken, and with strategy damos', async () => {
    const h = host({ nrKdamonds: '2' });
    const c = resolveControlConfig(
      {
        cgroups: [{ path: '/tenant', 'memory.tier_ratio': '1:3' }],
        access_tracking: 'damon_vaddr',
        journal: path.join(h.root, 'state', 'journal.json'),
        log: path.join(h.root, 'state', 'control.jsonl'),
      },
      'control.yaml',
    );
    await assert.rejects(
      runControl({
        config: c,
        apply: true,
        once: true,
        metrics: null,
        root: h.root,
        syscalls: h.syscalls,
        notice: () => {},
      }),
      /refusing to start: DAMON already has 2 kdamond/,
    );
    assert.throws(
      () =>
        config(h, '1:3', {}) &&
        resolveControlConfig(
          {
            cgroups: [{ path: '/t', 'memory.tier_ratio': '1:3' }],
            ratio: { strategy: 'damos' },
            access_tracking: 'soft_dirty',
          },
          'c.yaml',
        ),
      /c\.yaml: access_tracking: with ratio\.strategy damos the kernel's DAMON tracks accesses itself/,
    );
  });
});
