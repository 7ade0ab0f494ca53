import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TierRatio, parseTierRatio, ratioWeights } from '../src/host/tier-ratio.js';
import { resolveScenario } from '../src/scenario/load.js';
import { InputError } from '../src/util/errors.js';
import { smallHost, touch } from './host-support.js';

/** memory.tier_ratio: the value format, the quota arithmetic, and bad input. */

describe('memory.tier_ratio values', () => {
  it('accepts a fraction, a fast:slow pair and max', () => {
    assert.deepEqual(parseTierRatio('0.25', 'f'), { fraction: 0.25, text: '0.25' });
    assert.deepEqual(parseTierRatio('1:3', 'f'), { fraction: 0.25, text: '1:3' });
    assert.deepEqual(parseTierRatio(0.5, 'f'), { fraction: 0.5, text: '0.5' });
    assert.equal(parseTierRatio('max', 'f').fraction, null);
    assert.equal(parseTierRatio('0', 'f').fraction, 0);
    assert.equal(parseTierRatio('1', 'f').fraction, 1);
    assert.equal(parseTierRatio('0:5', 'f').fraction, 0);
  });

  for (const bad of ['1.7', '1:0', '-0.1', 'abc', '', '1:3:4', '0.5GiB', 'Infinity']) {
    it(`refuses ${JSON.stringify(bad)} naming the field`, () => {
      assert.throws(
        () => parseTierRatio(bad, 'cgroups[1].memory.tier_ratio'),
        (e: unknown) =>
          e instanceof InputError &&
          e.message.startsWith('cgroups[1].memory.tier_ratio: ') &&
          e.exitCode === 2,
      );
    });
  }

  it('turns ratios into interleave weights, reduced and at most 255', () => {
    assert.deepEqual(ratioWeights(parseTierRatio('0.25', 'f')), [1, 3]);
    assert.deepEqual(ratioWeights(parseTierRatio('2:6', 'f')), [1, 3]);
    assert.deepEqual(ratioWeights(parseTierRatio('0.4', 'f')), [2, 3]);
    assert.deepEqual(ratioWeights(parseTierRatio('0', 'f')), [0, 1]);
    assert.deepEqual(ratioWeights(parseTierRatio('1', 'f')), [1, 0]);
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), (r) => {
        const [p, q] = ratioWeights({ fraction: r, text: String(r) });
        assert.ok(p >= 1 && q >= 1 && p <= 255 && q <= 255, `${p}:${q}`);
        // No pair of weights in 1..255 comes closer to r.
        let best = Infinity;
        for (let a = 1; a <= 255; a++)
          for (let b = 1; b <= 255; b++) best = Math.min(best, Math.abs(a / (a + b) - r));
        assert.ok(Math.abs(p / (p + q) - r) <= best + 1e-12, `${r} → ${p}:${q}`);
      }),
      { numRuns: 40 },
    );
  });
});

describe('quota accounting', () => {
  const host = () =>
    smallHost({
      nodes: [
        { pages: 4096, cpu: true },
        { pages: 8192, cpu: false },
      ],
      cgroups: [
        { path: '/p', memoryMax: Infinity, memoryHigh: Infinity, memoryLow: 0 },
        { path: '/p/a', memoryMax: Infinity, memoryHigh: Infinity, memoryLow: 0 },
      ],
      spaces: [{ pages: 400, memcg: 2 }],
    });

  it('quota is ⌈ratio × memory.current⌉ over the subtree, fast pages counted on top-tier nodes', () => {
    const h = host();
    const r = new TierRatio(h);
    r.write(2, '0.3');
    touch(h, 0, 0, 10); // all on node 0: unconstrained allocation
    assert.equal(r.current(2), 10);
    assert.equal(r.fastPages(2), 10);
    assert.equal(r.quota(2), 3); // 0.3 × 10 rounds to exactly 3, not 4
    assert.equal(r.excess(2), 7);
    assert.equal(r.mayAddFast(2), false);
    assert.equal(r.fastPages(1), 10, 'the parent counts its subtree');
    assert.equal(r.read(2), '0.3');
    assert.equal(r.read(1), 'max');
    assert.equal(r.excess(1), -Infinity);
  });

  it('a parent ratio constrains its children, nearest group governs', () => {
    const h = host();
    const r = new TierRatio(h);
    r.write(1, '1:1');
    assert.equal(r.governing(2), 1);
    touch(h, 0, 0, 4);
    assert.equal(r.quota(1), 2);
    assert.equal(r.mayAddFast(2), false, 'the parent is over its quota');
    r.write(2, '0.9');
    assert.equal(r.governing(2), 2);
    assert.deepEqual([...r.constrainedAncestors(2)], [2, 1]);
    assert.equal(r.mayAddFast(2), false, 'still refused by the parent');
    r.write(1, 'max');
    assert.equal(r.mayAddFast(2), false, '4 fast pages of 4 fill ⌈0.9 × 4⌉');
    r.write(2, '1');
    assert.equal(r.excess(2), 0, 'ratio 1: the quota is memory.current');
    assert.deepEqual(r.constrainedGroups(), [2]);
  });

  it('notifies listeners of writes', () => {
    const r = new TierRatio(host());
    const seen: number[] = [];
    r.onChange((c) => seen.push(c));
    r.write(2, '0.5');
    assert.deepEqual(seen, [2]);
    assert.throws(() => r.write(2, '2'), /\/p\/a\/memory\.tier_ratio: a fraction must be between 0 and 1/);
  });
});

const baseDoc = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  duration_ms: 50,
  topology: {
    nodes: [
      {
        id: 0,
        cpus: [0],
        size: '32MiB',
        read_latency: 100,
        write_latency: 100,
        read_bandwidth: 50000,
        write_bandwidth: 30000,
      },
      {
        id: 1,
        cpus: [],
        size: '64MiB',
        read_latency: 300,
        write_latency: 120,
        read_bandwidth: 20000,
        write_bandwidth: 8000,
      },
    ],
    distance: [
      [10, 17],
      [17, 10],
    ],
  },
  cgroups: [{ path: '/vms' }, { path: '/vms/a', 'memory.tier_ratio': '0.25' }],
  vms: [{ name: 'a', cgroup: '/vms/a', workload: { footprint: '8MiB', pattern: 'uniform' } }],
  ...extra,
});

function inputError(doc: unknown): string {
  try {
    resolveScenario(doc, process.cwd(), 't');
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.exitCode, 2);
    return e.message;
  }
  assert.fail('expected an InputError');
}

describe('scenario input', () => {
  it('resolves ratios, strategy options and the schedule', () => {
    const sc = resolveScenario(
      baseDoc({
        ratio: { strategy: 'rebalance', promotion: 'refuse', rebalance: { period_ms: 20 } },
        schedule: [{ at_ms: 10, cgroup: '/vms/a', set: { 'memory.tier_ratio': '1:1' } }],
      }),
      process.cwd(),
      't',
    );
    assert.equal(sc.tierRatios.length, 1);
    assert.equal(sc.tierRatios[0].setting.fraction, 0.25);
    assert.equal(sc.ratio?.strategy, 'rebalance');
    assert.equal(sc.ratio?.promotion, 'refuse');
    assert.deepEqual(sc.ratio?.params, { period_ms: 20 });
    assert.equal(sc.schedule[0].setting.fraction, 0.5);
    assert.equal(sc.schedule[0].atNs, 10e6);
  });

  it('defaults to charge-retry with exchange; no ratio anywhere means no enforcement', () => {
    assert.equal(resolveScenario(baseDoc(), process.cwd(), 't').ratio?.strategy, 'charge-retry');
    const none = baseDoc({ cgroups: [{ path: '/vms' }, { path: '/vms/a' }] });
    assert.equal(resolveScenario(none, process.cwd(), 't').ratio, null);
  });

  it('refuses a ratio of 1.7 and "1:0" naming the field', () => {
    const doc = baseDoc({ cgroups: [{ path: '/vms' }, { path: '/vms/a', 'memory.tier_ratio': 1.7 }] });
    assert.match(inputError(doc), /^cgroups\[1\]\.memory\.tier_ratio: a fraction must be between 0 and 1/);
    const pair = baseDoc({ cgroups: [{ path: '/vms' }, { path: '/vms/a', 'memory.tier_ratio': '1:0' }] });
    assert.match(inputError(pair), /^cgroups\[1\]\.memory\.tier_ratio: the slow part/);
  });

  it('refuses an unknown strategy, listing the allowed ones', () => {
    assert.match(
      inputError(baseDoc({ ratio: { strategy: 'random' } })),
      /^ratio\.strategy: expected one of "charge-retry", "rebalance"/,
    );
  });

  it('refuses a strategy option under another strategy', () => {
    assert.match(
      inputError(baseDoc({ ratio: { userspace: { period_ms: 5 } } })),
      /^ratio\.userspace: only used by strategy userspace, not charge-retry/,
    );
  });

  it('refuses a schedule naming a missing cgroup, and a bad scheduled value', () => {
    const doc = baseDoc({ schedule: [{ at_ms: 5, cgroup: '/vms/b', set: { 'memory.tier_ratio': '0.5' } }] });
    assert.match(
      inputError(doc),
      /^schedule\[0\]\.cgroup: no cgroup "\/vms\/b"; defined: \/, \/vms, \/vms\/a/,
    );
    const bad = baseDoc({ schedule: [{ at_ms: 5, cgroup: '/vms/a', set: { 'memory.tier_ratio': '3' } }] });
    assert.match(inputError(bad), /^schedule\[0\]\.set\.memory\.tier_ratio: /);
  });

  it('the CLI prints one line naming the field and exits with code 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'numatier-ratio-'));
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify(
        baseDoc({ cgroups: [{ path: '/vms' }, { path: '/vms/a', 'memory.tier_ratio': '1.7' }] }),
      ),
    );
    const r = spawnSync(
      process.execPath,
      ['dist/src/cli/main.js', 'simulate', file, '--out', join(dir, 'out')],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /cgroups\[1\]\.memory\.tier_ratio/);
    assert.equal(r.stdout, '');
  });
});
