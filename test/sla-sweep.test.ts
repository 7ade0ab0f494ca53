import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_SCENARIO } from '../src/scenario/default.js';
import { runSla, type SlaOptions } from '../src/sla/sweep.js';
import { InputError } from '../src/util/errors.js';
import { twoTierTopology } from './scenario-support.js';

/** `numatier sla` (idea S15): the SLA curve of one VM over fast ratios. */

const sla = (o: Partial<SlaOptions> & { vm: string }) =>
  runSla({
    raw: DEFAULT_SCENARIO,
    baseDir: process.cwd(),
    defaultName: 'default',
    ratios: [0.5, 1],
    maxSlowdown: 1.05,
    strategy: 'charge-retry',
    withNeighbours: false,
    durationMs: 60,
    ...o,
  });

describe('sla on the default scenario', () => {
  for (const vm of DEFAULT_SCENARIO.vms.map((v) => v.name)) {
    it(`${vm}: runs, and every point replays the same accesses at its ratio`, () => {
      const r = sla({ vm });
      assert.equal(r.vm, vm);
      assert.ok(r.accesses > 0);
      assert.deepEqual(
        r.points.map((p) => p.fast_ratio),
        [0.5, 1],
      );
      const [half, one] = r.points;
      assert.equal(one.slowdown, 1);
      assert.equal(one.fast_tier_hit_ratio, 1, 'alone on 8 GiB of DRAM, everything is fast at ratio 1');
      assert.ok((half.slowdown as number) > 1, 'slow memory costs something');
      assert.ok(half.fast_tier_hit_ratio < 1);
      assert.ok(
        Math.abs((half.achieved_fast_ratio as number) - 0.5) <= 0.01,
        `achieved ${half.achieved_fast_ratio}`,
      );
      assert.equal(
        r.min_fast_ratio,
        r.points.find((p) => (p.slowdown as number) <= 1.05)?.fast_ratio ?? null,
      );
    });
  }

  it('the fast-tier hit ratio of a zipfian VM does not decrease with its fast ratio', () => {
    const r = sla({ vm: 'web', ratios: [0.25, 0.5, 0.75, 1], durationMs: 100 });
    const hits = r.points.map((p) => p.fast_tier_hit_ratio);
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i] >= hits[i - 1], `hit ratios ${hits.join(', ')}`);
    const slow = r.points.map((p) => p.slowdown as number);
    assert.ok(slow[0] > slow[slow.length - 1]);
    // A bound nothing meets gives null; a bound of 1 is met exactly at ratio 1.
    const none = sla({ vm: 'web', ratios: [0.25], durationMs: 30, maxSlowdown: 1 });
    assert.equal(none.min_fast_ratio, null);
  });

  it('refuses an unknown VM and a ratio out of range', () => {
    assert.throws(
      () => sla({ vm: 'nope' }),
      (e: unknown) => e instanceof InputError && /^--vm: no VM named "nope"/.test(e.message),
    );
    assert.throws(
      () => sla({ vm: 'web', ratios: [1.5] }),
      (e: unknown) => e instanceof InputError && /^--ratios/.test(e.message),
    );
  });
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

  it('--json prints the curve and the smallest ratio within the bound', () => {
    const r = cli(file, '--vm', 'a', '--ratios', '0.25,1:1,1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      vm: string;
      points: Record<string, unknown>[];
      min_fast_ratio: number | null;
    };
    assert.equal(out.vm, 'a');
    assert.deepEqual(
      out.points.map((p) => p.fast_ratio),
      [0.25, 0.5, 1],
    );
    for (const p of out.points)
      for (const k of ['fast_ratio', 'slowdown', 'fast_tier_hit_ratio'])
        assert.equal(typeof p[k], 'number', k);
    assert.ok('min_fast_ratio' in out);
  });

  it('--with-neighbours keeps the other VMs and still stops when the VM is done', () => {
    const r = cli(file, '--vm', 'a', '--ratios', '0.5', '--with-neighbours', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { with_neighbours: boolean }).with_neighbours, true);
  });

  for (const [args, re] of [
    [['--vm', 'nope'], /--vm: no VM named "nope"/],
    [['--vm', 'a', '--strategy', 'magic'], /--strategy: expected one of charge-retry/],
    [['--vm', 'a', '--ratios', '0.5,1.7'], /--ratios: a fraction must be between 0 and 1/],
    [['--ratios', '0.5'], /--vm: required/],
  ] as const) {
    it(`exits 2 with one line for ${args.join(' ')}`, () => {
      const r = cli(file, ...args);
      assert.equal(r.status, 2);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    });
  }
});
