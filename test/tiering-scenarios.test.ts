import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import type { Summary } from '../src/report/summary.js';

/**
 * The 2019 debate's predictions about page movement between tiers, checked as inequalities on
 * small hosts (MiB instead of GiB, so each run takes well under a second).
 */

const dram = (id: number, size: string, cpus: number[]) => ({
  id,
  cpus,
  size,
  read_latency: 100,
  write_latency: 100,
  read_bandwidth: 50000,
  write_bandwidth: 30000,
});
const slow = (id: number, size: string) => ({
  id,
  cpus: [],
  size,
  read_latency: 300,
  write_latency: 120,
  read_bandwidth: 20000,
  write_bandwidth: 8000,
});

function simulate(doc: Record<string, unknown>, seed = 1): Summary {
  return runScenario(resolveScenario(doc, process.cwd(), 'test'), seed).summary;
}

function twoTier(extra: { kernel?: object; tiering?: object; vms: object[]; duration_ms?: number }) {
  return {
    duration_ms: extra.duration_ms ?? 3000,
    sample_interval_ms: 50,
    topology: {
      nodes: [dram(0, '64MiB', [0, 1]), slow(1, '256MiB')],
      distance: [
        [10, 17],
        [17, 10],
      ],
    },
    kernel: { swap: '512MiB', ...extra.kernel },
    ...(extra.tiering ? { tiering: extra.tiering } : {}),
    vms: extra.vms,
  };
}

describe('promotion filters on a CPU-less slow node (S19–S22)', () => {
  const kernel = {
    demotion_enabled: true,
    numa_balancing: 2,
    numa_balancing_scan_delay_ms: 100,
    numa_balancing_scan_period_min_ms: 100,
    numa_balancing_hot_threshold_ms: 40,
  };
  const vms = [
    {
      name: 'app',
      workload: { footprint: '200MiB', pattern: 'zipfian', theta: 0.9, write_ratio: 0.2, compute_ns: 50 },
    },
  ];
  const always = simulate(twoTier({ kernel, tiering: { promotion_filter: 'always' }, vms }));
  const hot = simulate(
    twoTier({
      kernel: { ...kernel, numa_balancing_promote_rate_limit_MBps: 100 },
      tiering: { promotion_filter: 'hot-threshold' },
      vms,
    }),
  );
  const a = always.vms[0];
  const h = hot.vms[0];

  it('with `always`, hot and cold pages alike are promoted and bounce back: high ping-pong', () => {
    assert.ok(a.promoted_pages > 0.5 * 51200 * 0.5, `always promoted ${a.promoted_pages} pages`);
    assert.ok(a.pingpong_pages > 1000, `ping-pong ${a.pingpong_pages}`);
    assert.ok(
      a.pingpong_pages >= 0.1 * a.promoted_pages,
      'a large share of promotions is undone by demotion',
    );
    assert.equal(a.thrashing, true);
  });

  it('the hot threshold with the rate limit cuts promotion traffic several-fold and keeps the fast-tier hit ratio', () => {
    assert.ok(
      h.promoted_pages * 3 < a.promoted_pages,
      `hot-threshold ${h.promoted_pages} vs always ${a.promoted_pages}`,
    );
    assert.ok(
      h.pingpong_pages * 3 < a.pingpong_pages,
      `ping-pong ${h.pingpong_pages} vs ${a.pingpong_pages}`,
    );
    assert.ok(
      h.fast_tier_hit_ratio >= a.fast_tier_hit_ratio - 0.05,
      `hit ratio ${h.fast_tier_hit_ratio} vs ${a.fast_tier_hit_ratio}`,
    );
    assert.ok(hot.tiering.rate_limited + hot.tiering.not_hot > 0, 'some hint faults were filtered');
    assert.ok(
      hot.vmstat.pgpromote_candidate >= hot.vmstat.pgpromote_success - hot.tiering.promote_free_space,
    );
  });

  it('promotion beats no promotion when the hot set changes', () => {
    // The first phase fills DRAM with the first half of the footprint; then the skew spreads
    // over all of it and only promotion can bring the new hot pages up.
    const phased = [
      {
        name: 'app',
        workload: {
          footprint: '200MiB',
          pattern: 'phases',
          phases: [
            { accesses: 3000000, pattern: 'zipfian', theta: 0.99, footprint: '100MiB' },
            { accesses: 30000000, pattern: 'zipfian', theta: 0.99 },
          ],
          write_ratio: 0.2,
          compute_ns: 50,
        },
      },
    ];
    const k = { ...kernel, numa_balancing_scan_period_min_ms: 200 };
    const none = simulate(twoTier({ kernel: { ...k, numa_balancing: 0 }, vms: phased })).vms[0];
    const tiered = simulate(
      twoTier({ kernel: k, tiering: { promotion_filter: 'hot-threshold' }, vms: phased }),
    ).vms[0];
    assert.ok(
      tiered.fast_tier_hit_ratio > none.fast_tier_hit_ratio + 0.1,
      `${tiered.fast_tier_hit_ratio} vs ${none.fast_tier_hit_ratio}`,
    );
    assert.ok(tiered.amat_ns < none.amat_ns, `AMAT ${tiered.amat_ns} vs ${none.amat_ns}`);
  });
});

describe('migrate on reclaim instead of swap (S16)', () => {
  // The VM is bound to DRAM (as `numactl -m 0`), so only reclaim can make room: without
  // demotion that is swap; demotion ignores the memory policy and moves pages to the slow node.
  const vms = [
    {
      name: 'db',
      mempolicy: { mode: 'bind', nodes: [0] },
      workload: { footprint: '128MiB', pattern: 'zipfian', theta: 0.8, write_ratio: 0.3, compute_ns: 50 },
    },
  ];
  const swap = simulate(twoTier({ kernel: { demotion_enabled: false }, vms }));
  const demote = simulate(twoTier({ kernel: { demotion_enabled: true }, vms }));

  it('cuts swap-ins and slowdown for a workload larger than DRAM', () => {
    assert.ok(swap.vmstat.pswpin > 1000, `without demotion: pswpin ${swap.vmstat.pswpin}`);
    assert.ok(
      demote.vmstat.pswpin * 10 < swap.vmstat.pswpin,
      `pswpin ${demote.vmstat.pswpin} vs ${swap.vmstat.pswpin}`,
    );
    assert.ok(demote.vmstat.pgdemote_kswapd + demote.vmstat.pgdemote_direct > 0);
    assert.ok(
      demote.vms[0].slowdown < swap.vms[0].slowdown,
      `slowdown ${demote.vms[0].slowdown} vs ${swap.vms[0].slowdown}`,
    );
    assert.ok(
      demote.vms[0].pages_by_node['1'] > 0,
      'demoted pages live on the slow node despite the bind policy',
    );
  });
});

describe('demotion order (S17)', () => {
  // Two DRAM sockets under pressure and one slow node: with a distance-ordered fallback list,
  // socket 0 demotes into socket 1 (nearest) and socket 1 back into socket 0.
  const topo = {
    nodes: [dram(0, '48MiB', [0, 1]), dram(1, '48MiB', [2, 3]), slow(2, '512MiB')],
    distance: [
      [10, 12, 20],
      [12, 10, 20],
      [20, 20, 10],
    ],
  };
  const vm = (name: string, node: number) => ({
    name,
    cpu_node: node,
    mempolicy: { mode: 'bind', nodes: [node] },
    workload: { footprint: '96MiB', pattern: 'uniform', write_ratio: 0.2, compute_ns: 30 },
  });
  const run = (tiering: object) =>
    simulate({
      duration_ms: 1500,
      topology: topo,
      kernel: { demotion_enabled: true, swap: '1GiB' },
      tiering,
      vms: [vm('a', 0), vm('b', 1)],
    });
  const cycles = (s: Summary) => s.vms.reduce((x, v) => x + v.demotion_cycles, 0);

  it('distance-list without history lets pages cycle between nodes; with history it never does', () => {
    const noHistory = run({ demotion_policy: 'distance-list' });
    const history = run({ demotion_policy: 'distance-list', demotion_history: true });
    assert.ok(cycles(noHistory) > 0, `cycles without history: ${cycles(noHistory)}`);
    assert.equal(cycles(history), 0);
    assert.ok(history.vmstat.pgdemote_kswapd + history.vmstat.pgdemote_direct > 0, 'history still demotes');
  });

  it('the kernel rule, a single target and one-way paths never cycle', () => {
    for (const t of [
      { demotion_policy: 'kernel' },
      { demotion_policy: 'single' },
      { demotion_policy: 'one-way', demotion_paths: { 0: [2], 1: [2] } },
    ]) {
      const s = run(t);
      assert.equal(cycles(s), 0, JSON.stringify(t));
      assert.ok(s.vms[0].pages_by_node['2'] > 0, `${JSON.stringify(t)} demotes to the slow node`);
    }
  });
});

describe('memory classes (S14)', () => {
  const wl = (footprint: string) => ({
    footprint,
    pattern: 'zipfian',
    theta: 0.99,
    write_ratio: 0.2,
    compute_ns: 50,
  });
  const memoryMode = (footprint: string) =>
    simulate({
      duration_ms: 1000,
      topology: {
        nodes: [
          {
            ...slow(0, '256MiB'),
            cpus: [0, 1],
            memory_side_cache: { size: '64MiB', read_latency: 100, write_latency: 100 },
          },
        ],
        distance: [[10]],
      },
      vms: [{ name: 'app', workload: wl(footprint) }],
    });

  it('a memory-side cache serves hits at its own latency and misses at the backing latency', () => {
    const fits = memoryMode('32MiB');
    const spills = memoryMode('200MiB');
    const cacheOf = (s: Summary) => s.nodes[0].memory_side_cache;
    assert.ok(cacheOf(fits) !== undefined);
    assert.ok((cacheOf(fits)?.hit_ratio ?? 0) > 0.95, `hit ratio ${cacheOf(fits)?.hit_ratio}`);
    assert.ok(
      fits.vms[0].amat_ns < 120,
      `a working set that fits runs near DRAM latency: ${fits.vms[0].amat_ns}`,
    );
    assert.ok((cacheOf(spills)?.hit_ratio ?? 1) < (cacheOf(fits)?.hit_ratio ?? 0));
    assert.ok(spills.vms[0].amat_ns > fits.vms[0].amat_ns && spills.vms[0].amat_ns < 300);
  });

  it('nothing depends on a technology name: a CPU-less node faster than DRAM (HBM-like) is the top tier', () => {
    const s = simulate({
      duration_ms: 300,
      topology: {
        nodes: [
          dram(0, '64MiB', [0, 1]),
          {
            id: 1,
            cpus: [],
            size: '64MiB',
            read_latency: 60,
            write_latency: 60,
            read_bandwidth: 200000,
            write_bandwidth: 200000,
          },
          slow(2, '256MiB'),
        ],
        distance: [
          [10, 12, 17],
          [12, 10, 20],
          [17, 20, 10],
        ],
      },
      vms: [{ name: 'app', mempolicy: { mode: 'preferred', nodes: [1] }, workload: wl('32MiB') }],
    });
    assert.ok(s.nodes[1].tier < s.nodes[0].tier, 'the fast node ranks above DRAM');
    assert.ok(s.vms[0].amat_ns < 100, `AMAT ${s.vms[0].amat_ns} below DRAM latency`);
  });
});

describe('kernel memory placement (S13)', () => {
  // DRAM fills with the VM's pages first; its dentry cache grows afterwards. The slow node is
  // onlined movable, so the kernel's own rule keeps kernel memory off it.
  const run = (placement: string) =>
    simulate({
      duration_ms: 1500,
      topology: {
        nodes: [dram(0, '64MiB', [0, 1]), { ...slow(1, '256MiB'), zone: 'movable' }],
        distance: [
          [10, 17],
          [17, 10],
        ],
      },
      kernel: { demotion_enabled: true, swap: '256MiB' },
      vms: [
        {
          name: 'files',
          kernel_memory: { size: '24MiB', access_share: 0.3, placement, grow_ms: 600 },
          workload: { footprint: '128MiB', pattern: 'zipfian', theta: 0.6, write_ratio: 0.1, compute_ns: 50 },
        },
      ],
    }).vms[0];

  it('slow-memory dentry caches cost the VM; the kernel rule and fast-only keep them in DRAM', () => {
    const local = run('local');
    const fastOnly = run('fast-only');
    const anywhere = run('anywhere');
    const onSlow = (v: Summary['vms'][number]) => v.kernel_memory?.pages_by_node['1'] ?? -1;
    assert.equal(onSlow(local), 0, 'GFP_KERNEL cannot use ZONE_MOVABLE');
    assert.equal(onSlow(fastOnly), 0);
    assert.ok(onSlow(anywhere) > 1000, `kernel pages on the slow node: ${onSlow(anywhere)}`);
    assert.ok(anywhere.amat_ns > local.amat_ns, `AMAT ${anywhere.amat_ns} vs ${local.amat_ns}`);
    assert.ok(anywhere.slowdown > local.slowdown, `slowdown ${anywhere.slowdown} vs ${local.slowdown}`);
  });
});

describe('NUMA-balancing scan pacing', () => {
  it("in NORMAL mode update_task_scan_period() slows a private task's scanning", () => {
    const updatesPerSecond = (mode: number): number[] => {
      const r = runScenario(
        resolveScenario(
          {
            duration_ms: 6000,
            sample_interval_ms: 1000,
            topology: {
              nodes: [dram(0, '64MiB', [0, 1]), dram(1, '256MiB', [2, 3])],
              distance: [
                [10, 21],
                [21, 10],
              ],
            },
            kernel: {
              numa_balancing: mode,
              numa_balancing_scan_delay_ms: 100,
              numa_balancing_scan_period_min_ms: 100,
            },
            vms: [
              {
                name: 'app',
                workload: { footprint: '160MiB', pattern: 'zipfian', theta: 0.9, compute_ns: 50 },
              },
            ],
          },
          process.cwd(),
          'scan',
        ),
        1,
      );
      const col = r.series.columns.indexOf('numa_pte_updates');
      const cum = r.series.rows.map((row) => row[col]);
      return cum.slice(1).map((v, i) => v - cum[i]);
    };
    const normal = updatesPerSecond(1);
    assert.ok(normal[normal.length - 1] < normal[0], `PTE updates per second ${normal.join(', ')}`);
    assert.ok(normal.reduce((a, b) => a + b, 0) > 0);
  });
});
