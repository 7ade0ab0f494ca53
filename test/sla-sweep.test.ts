import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_SCENARIO } from '../src/scenario/default.js';
import { formatSla } from '../src/sla/format.js';
import { ratioText, runSla, type SlaCurve, type SlaOptions, type SlaResult } from '../src/sla/sweep.js';
import { applyOverrides } from '../src/scenario/load.js';
import { InputError } from '../src/util/errors.js';
import { parseTierRatio } from '../src/host/tier-ratio.js';
import fc from 'fast-check';
import { twoTierTopology } from './scenario-support.js';

/** `numatier sla` (idea S15): the SLA curve of one VM over fast ratios. */

const sla = (o: Partial<SlaOptions> & { vm: string }) =>
  runSla({
    raw: DEFAULT_SCENARIO,
    baseDir: process.cwd(),
    defaultName: 'default',
    ratios: [0.5, 1],
    maxSlowdown: 1.05,
    withNeighbours: false,
    durationMs: 60,
    ...o,
  });

const curve = (r: SlaResult, i = 0) => r.curves[i];

describe('sla on the default scenario', () => {
  for (const vm of DEFAULT_SCENARIO.vms.map((v) => v.name)) {
    it(`${vm}: runs, and every point replays the same accesses at its ratio`, async () => {
      const r = await sla({ vm });
      assert.equal(r.vm, vm);
      const c = curve(r);
      assert.ok(c.settings.accesses_per_point > 0);
      assert.deepEqual(
        c.points.map((p) => p.fast_ratio),
        [0.5, 1],
      );
      const [half, one] = c.points;
      assert.equal(one.vs_ratio_1, 1);
      assert.equal(one.fast_tier_hit_ratio, 1, 'alone on 8 GiB of DRAM, everything is fast at ratio 1');
      assert.ok((half.vs_ratio_1 as number) > 1, 'slow memory costs something');
      assert.ok(half.slowdown > one.slowdown);
      assert.ok(half.fast_tier_hit_ratio < 1);
      assert.ok(half.finished && one.finished);
      assert.ok(
        Math.abs((half.achieved_fast_ratio as number) - 0.5) <= 0.01,
        `achieved ${half.achieved_fast_ratio}`,
      );
      assert.equal(
        c.min_fast_ratio,
        c.points.find((p) => (p.vs_ratio_1 as number) <= 1.05)?.fast_ratio ?? null,
      );
    });
  }

  it("slowdown means simulate's: busy time over ideal DRAM; vs_ratio_1 is busy time over ratio 1's", async () => {
    const r = await sla({ vm: 'kv', ratios: [0.25, 1] });
    const [q, one] = curve(r).points;
    assert.ok(Math.abs((q.vs_ratio_1 as number) - q.busy_ms / one.busy_ms) < 1e-6);
    // The same scenario through simulate's path gives the ratio-1 point's slowdown.
    assert.ok(one.slowdown > 1, 'first-touch faults make even ratio 1 slower than ideal DRAM');
    assert.equal(r.bound.figure, 'vs_ratio_1');
  });

  it('each point splits its busy time into memory, kernel work by kind and compute', async () => {
    const r = await sla({ vm: 'web', ratios: [0.25, 1], durationMs: 200 });
    for (const p of curve(r).points) {
      const t = p.time_ms;
      assert.ok(Math.abs(t.memory + t.kernel + t.compute - p.busy_ms) <= 3e-6, `${JSON.stringify(t)}`);
      const kinds = Object.values(t.kernel_by);
      const sum = kinds.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - t.kernel) <= kinds.length * 1e-6, `${sum} vs ${t.kernel}`);
      assert.ok(Math.abs(t.kernel_by.other) <= 1e-6, 'every kernel cost is attributed');
      assert.ok(t.kernel_by.page_faults > 0 && t.kernel_by.file_read > 0, 'web touches anon and file pages');
    }
    // Hint faults start after the scan delay (1 s): none in 200 ms, some at 0.25 over 3 s.
    const long = await sla({ vm: 'web', ratios: [0.25, 1], durationMs: 1500 });
    const [q, one] = curve(long).points;
    assert.ok(q.time_ms.kernel_by.hint_faults > 0 && q.time_ms.kernel_by.numa_scan > 0);
    assert.equal(one.time_ms.kernel_by.hint_faults, 0, 'at ratio 1 every page is fast: nothing to promote');
  });

  it('names the settings it used, read back from the resolved scenario', async () => {
    const refuse = curve(
      await sla({ vm: 'web', raw: applyOverrides(DEFAULT_SCENARIO, ['ratio.promotion=refuse']) }),
    );
    assert.equal(refuse.settings.ratio_promotion, 'refuse');
    const noRatio = { ...DEFAULT_SCENARIO } as Record<string, unknown>;
    delete noRatio.ratio;
    const dflt = curve(await sla({ vm: 'web', raw: noRatio }));
    assert.equal(dflt.settings.ratio_promotion, 'exchange', 'the default of ratio.promotion');
    assert.equal(dflt.settings.ratio_strategy, 'charge-retry');
    assert.deepEqual(
      { ...dflt.settings, ratio_promotion: 'refuse' },
      refuse.settings,
      'nothing else differs',
    );
    assert.equal(dflt.settings.numa_balancing, 2);
    assert.equal(dflt.settings.promotion_filter, 'hot-threshold');
    assert.equal(dflt.settings.demotion_enabled, true);
    assert.equal(dflt.settings.ratio_warmup_ms, 6, 'a tenth of the 60 ms counting run');
    assert.equal(dflt.settings.duration_ms, 60);
    assert.equal(dflt.settings.seed, 1);
    assert.equal(dflt.settings.with_neighbours, false);
    const off = curve(
      await sla({ vm: 'web', raw: applyOverrides(DEFAULT_SCENARIO, ['kernel.numa_balancing=0']), seed: 7 }),
    );
    assert.equal(off.settings.numa_balancing, 0);
    assert.equal(off.settings.promotion_filter, null, 'no hint faults, so no filter runs');
    assert.equal(off.settings.seed, 7);
    const rb = curve(await sla({ vm: 'web', strategy: 'rebalance' }));
    assert.equal(rb.settings.ratio_strategy, 'rebalance');
  });

  it('--vary with two values gives two curves whose settings differ only in that path', async () => {
    const r = await sla({
      vm: 'web',
      ratios: [0.25, 1],
      durationMs: 1200,
      vary: [{ path: 'ratio.promotion', values: ['exchange', 'refuse'] }],
    });
    assert.equal(r.curves.length, 2);
    assert.deepEqual(
      r.curves.map((c) => c.vary),
      [{ 'ratio.promotion': 'exchange' }, { 'ratio.promotion': 'refuse' }],
    );
    const [ex, rf] = r.curves;
    assert.equal(ex.settings.ratio_promotion, 'exchange');
    assert.equal(rf.settings.ratio_promotion, 'refuse');
    assert.deepEqual({ ...ex.settings, ratio_promotion: 'refuse' }, rf.settings);
    assert.ok(ex.points[0].exchange_demotions > 0, 'exchange demotes to promote');
    assert.equal(rf.points[0].exchange_demotions, 0);
    assert.ok(rf.points[0].refused_promotions > 0);
    // Two paths: the product, the first varying slowest.
    const two = await sla({
      vm: 'web',
      ratios: [1],
      durationMs: 30,
      vary: [
        { path: 'ratio.promotion', values: ['exchange', 'refuse'] },
        { path: 'kernel.numa_balancing', values: ['2', '0'] },
      ],
    });
    assert.deepEqual(
      two.curves.map((c) => [c.settings.ratio_promotion, c.settings.numa_balancing]),
      [
        ['exchange', 2],
        ['exchange', 0],
        ['refuse', 2],
        ['refuse', 0],
      ],
    );
  });

  it('refuses a bad --vary path or value, naming the flag', async () => {
    for (const [vary, re] of [
      [{ path: 'ratio.promotion', values: ['exchange', 'swap'] }, /^--vary ratio\.promotion=swap: /],
      [{ path: 'kernel.bogus', values: ['1'] }, /^--vary kernel\.bogus=1: /],
      [{ path: 'ratio.promotion', values: [] }, /^--vary ratio\.promotion: expected PATH=a,b/],
    ] as const) {
      await assert.rejects(
        () => sla({ vm: 'web', vary: [vary] }),
        (e: unknown) => e instanceof InputError && re.test(e.message),
      );
    }
    await assert.rejects(
      () =>
        sla({ vm: 'web', strategy: 'rebalance', vary: [{ path: 'ratio.strategy', values: ['interleave'] }] }),
      (e: unknown) => e instanceof InputError && /conflicts with --strategy/.test(e.message),
    );
    await assert.rejects(
      () => sla({ vm: 'web', seed: 3, vary: [{ path: 'seed', values: ['1', '2'] }] }),
      (e: unknown) => e instanceof InputError && /^--vary seed: conflicts with --seed 3$/.test(e.message),
    );
    await assert.rejects(
      () => sla({ vm: 'web', durationMs: 500, vary: [{ path: 'duration_ms', values: ['400', '800'] }] }),
      (e: unknown) =>
        e instanceof InputError && /^--vary duration_ms: conflicts with --duration-ms 500$/.test(e.message),
    );
  });

  it('a ratio written to memory.tier_ratio reads back as the same number, however small', async () => {
    assert.equal(ratioText(0.125), '0.125');
    assert.equal(ratioText(1.5e-7), '0.00000015');
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (r) => {
        const text = ratioText(r);
        assert.doesNotMatch(text, /e/);
        assert.equal(parseTierRatio(text, 'memory.tier_ratio').fraction, r);
      }),
    );
  });

  it('same inputs, same bytes, whether the points run here or on two worker threads', async () => {
    const o = {
      vm: 'web',
      ratios: [0.125, 0.5, 1],
      durationMs: 600,
      vary: [{ path: 'ratio.promotion', values: ['exchange', 'refuse'] }],
    };
    const here = await sla({ ...o, jobs: 1 });
    const pooled = await sla({ ...o, jobs: 2 });
    assert.equal(JSON.stringify(pooled), JSON.stringify(here));
    assert.equal(formatSla(pooled), formatSla(here));
    assert.equal(JSON.stringify(await sla({ ...o, jobs: 1 })), JSON.stringify(here));
  });

  it('refuses an unknown VM and a ratio out of range', async () => {
    await assert.rejects(
      () => sla({ vm: 'nope' }),
      (e: unknown) => e instanceof InputError && /^--vm: no VM named "nope"/.test(e.message),
    );
    await assert.rejects(
      () => sla({ vm: 'web', ratios: [1.5] }),
      (e: unknown) => e instanceof InputError && /^--ratios/.test(e.message),
    );
  });
});

/**
 * The curve of a zipfian tenant alone, with the default scenario's settings for the whole
 * default duration (hint faults on): slowdown must not grow and the fast hit ratio must not
 * fall as the fast ratio grows, under either promotion rule.
 */
describe('sla curves are monotone in the fast ratio', () => {
  const monotone = (c: SlaCurve): void => {
    const pts = c.points.map((p) => `${p.fast_ratio}: ${p.slowdown}/${p.fast_tier_hit_ratio}`).join(', ');
    for (let i = 1; i < c.points.length; i++) {
      assert.ok(c.points[i].slowdown <= c.points[i - 1].slowdown, `slowdown/hit: ${pts}`);
      assert.ok(
        c.points[i].fast_tier_hit_ratio >= c.points[i - 1].fast_tier_hit_ratio,
        `slowdown/hit: ${pts}`,
      );
    }
  };
  for (const promotion of ['exchange', 'refuse']) {
    it(`web, ratio.promotion ${promotion}`, async () => {
      const r = await sla({
        vm: 'web',
        raw: applyOverrides(DEFAULT_SCENARIO, [`ratio.promotion=${promotion}`]),
        ratios: [0.125, 0.25, 0.5, 0.75, 1],
        durationMs: DEFAULT_SCENARIO.duration_ms,
      });
      assert.equal(curve(r).settings.ratio_promotion, promotion);
      monotone(curve(r));
    });
  }
  // Known: under exchange the curve is flat below about 0.125 and its order there (and the hit
  // ratio between 0.65 and 0.7) flips with the seed; kept visible rather than sorted away.
  it(
    'web, ratio.promotion exchange, fine steps',
    {
      todo: 'exchange churn: fast-tier hit 0.788 at 0.65 > 0.740 at 0.7 (seed 1; slowdown is monotone there)',
    },
    async () => {
      const r = await sla({
        vm: 'web',
        raw: applyOverrides(DEFAULT_SCENARIO, ['ratio.promotion=exchange']),
        ratios: [0.05, 0.1, 0.65, 0.7],
        durationMs: DEFAULT_SCENARIO.duration_ms,
      });
      monotone(curve(r));
    },
  );
});

describe('numatier sla (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'numatier-sla-'));
  const file = join(dir, 'two.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'two',
      duration_ms: 60,
      topology: twoTierTopology({ dram: '64MiB', slow: '128MiB' }),
      kernel: { swap: 'none' },
      vms: [
        { name: 'a', workload: { footprint: '16MiB', pattern: 'zipfian', compute_ns: 20 } },
        { name: 'b', workload: { footprint: '16MiB', pattern: 'uniform', compute_ns: 20 } },
      ],
    }),
  );
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['dist/src/cli/main.js', 'sla', ...args], { encoding: 'utf8' });

  it('--json prints the curve, its settings and the smallest ratio within the bound', () => {
    const r = cli(file, '--vm', 'a', '--ratios', '0.25,1:1,1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as SlaResult;
    assert.equal(out.vm, 'a');
    assert.equal(out.curves.length, 1);
    const c = out.curves[0];
    assert.deepEqual(
      c.points.map((p) => p.fast_ratio),
      [0.25, 0.5, 1],
    );
    for (const p of c.points)
      for (const k of ['fast_ratio', 'slowdown', 'vs_ratio_1', 'fast_tier_hit_ratio', 'busy_ms'] as const)
        assert.equal(typeof p[k], 'number', k);
    assert.ok('min_fast_ratio' in c);
    // No ratio block and no numa_balancing in the file: the defaults, named.
    assert.equal(c.settings.ratio_promotion, 'exchange');
    assert.equal(c.settings.numa_balancing, 0);
    assert.equal(c.settings.promotion_filter, null);
  });

  it('--set ratio.promotion=refuse is named in the JSON; --vary makes one curve per value', () => {
    const r = cli(file, '--vm', 'a', '--ratios', '0.5,1', '--set', 'ratio.promotion=refuse', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as SlaResult).curves[0].settings.ratio_promotion, 'refuse');
    const v = cli(file, '--vm', 'a', '--ratios', '0.5,1', '--vary', 'kernel.numa_balancing=0,2', '--json');
    assert.equal(v.status, 0, v.stderr);
    const out = JSON.parse(v.stdout) as SlaResult;
    assert.deepEqual(
      out.curves.map((c) => c.settings.numa_balancing),
      [0, 2],
    );
    assert.deepEqual(out.varied, [{ path: 'kernel.numa_balancing', values: ['0', '2'] }]);
  });

  it('ratios print as the shortest decimal that parses back, in text and JSON', () => {
    const r = cli(file, '--vm', 'a', '--ratios', '1:7,1:2,0.1,1');
    assert.equal(r.status, 0, r.stderr);
    const col = r.stdout
      .split('\n')
      .filter((l) => /^\s*[\d.]+\s{2}/.test(l))
      .map((l) => l.trim().split(/\s+/)[0]);
    assert.deepEqual(col, ['0.1', '0.125', '0.3333333333333333', '1']);
    assert.equal(Number(col[2]), 1 / 3);
    assert.match(r.stdout, /ratio\.promotion exchange/);
    assert.match(r.stdout, /vs_ratio_1/);
    const j = JSON.parse(cli(file, '--vm', 'a', '--ratios', '1:7,1', '--json').stdout) as SlaResult;
    assert.equal(j.curves[0].points[0].fast_ratio, 0.125);
  });

  it('--with-neighbours keeps the other VMs and still stops when the VM is done', () => {
    const r = cli(file, '--vm', 'a', '--ratios', '0.5', '--with-neighbours', '--json');
    assert.equal(r.status, 0, r.stderr);
    const c = (JSON.parse(r.stdout) as SlaResult).curves[0];
    assert.equal(c.settings.with_neighbours, true);
    assert.ok(c.points.every((p) => p.finished));
  });

  for (const [args, re] of [
    [['--vm', 'nope'], /--vm: no VM named "nope"/],
    [['--vm', 'a', '--strategy', 'magic'], /--strategy: expected one of charge-retry/],
    [['--vm', 'a', '--ratios', '0.5,1.7'], /--ratios: a fraction must be between 0 and 1/],
    [['--ratios', '0.5'], /--vm: required/],
    [['--vm', 'a', '--vary', 'ratio.promotion=exchange,swap'], /--vary ratio\.promotion=swap: /],
    [['--vm', 'a', '--vary', 'kernel.nope=1'], /--vary kernel\.nope=1: /],
    [['--vm', 'a', '--vary', 'ratio.promotion'], /--vary "ratio\.promotion": expected PATH=a,b/],
  ] as const) {
    it(`exits 2 with one line for ${args.join(' ')}`, () => {
      const r = cli(file, ...args);
      assert.equal(r.status, 2);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    });
  }
});
