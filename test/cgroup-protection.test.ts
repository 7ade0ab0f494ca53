import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { effectiveProtection, type CgroupSpec } from '../src/host/cgroups.js';
import type { Host } from '../src/host/host.js';
import { proactiveReclaim } from '../src/host/reclaim.js';
import { smallHost, touch } from './host-support.js';
import { verifyHost } from '../src/host/verify.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures');
const fixture = JSON.parse(readFileSync(join(fixtures, 'kernel-memcg-protection.json'), 'utf8'));

const GIB = 262144; // 4 KiB pages
const MIB = 256;

/** The selftests' values_close(): |a - b| <= (a + b) / 100 * err. */
function valuesClose(a: number, b: number, err: number): boolean {
  return Math.abs(a - b) <= ((a + b) / 100) * err;
}

describe('effective_protection() (kernel worked example)', () => {
  const ex = fixture.effective_protection;
  const parentEffective = ex.parent.low * GIB;
  const parentUsage = ex.parent.usage * GIB;
  const siblings = ex.children.reduce(
    (s: number, c: { low: number; usage: number }) => s + Math.min(c.low, c.usage) * GIB,
    0,
  );
  const elow = ex.children.map((c: { low: number; usage: number }) =>
    effectiveProtection(c.usage * GIB, parentUsage, c.low * GIB, parentEffective, siblings, false),
  );

  it('splits an overcommitted parent in proportion to protected usage: B 4/3 G, C 2/3 G, D and E 0', () => {
    assert.equal(elow[0], Math.floor((2 * GIB * 2 * GIB) / (3 * GIB)));
    assert.equal(elow[1], Math.floor((1 * GIB * 2 * GIB) / (3 * GIB)));
    assert.equal(elow[2], 0);
    assert.equal(elow[3], 0);
    assert.ok(elow[0] + elow[1] <= parentEffective, 'never more than the parent affords');
  });

  it('keeps min(usage, setting) when the parent affords it, and spreads the rest only with memory_recursiveprot', () => {
    // Parent protects 4 G; children use 1 G (low 2 G) and 2 G (low 0): siblings claim 1 G.
    const own = effectiveProtection(1 * GIB, 3 * GIB, 2 * GIB, 4 * GIB, 1 * GIB, false);
    assert.equal(own, 1 * GIB);
    assert.equal(effectiveProtection(2 * GIB, 3 * GIB, 0, 4 * GIB, 1 * GIB, false), 0);
    // Recursive: the unclaimed 3 G goes by unprotected usage, 2 G of the 2 G unprotected.
    const rec = effectiveProtection(2 * GIB, 3 * GIB, 0, 4 * GIB, 1 * GIB, true);
    assert.equal(rec, Math.floor((3 * GIB * 2 * GIB) / (2 * GIB)));
  });
});

/**
 * The kernel's test_memcg_protection() on the simulated host: A (memory.max 200M) holds B,
 * whose children C, D, E hold 50M of page cache each, and G, which then allocates anon memory
 * with no swap, so only B's page cache can give way.
 */
function selftestHost(attribute: 'memoryLow' | 'memoryMin'): { host: Host; id: Map<string, number> } {
  const st = fixture.selftest;
  const cgroups: CgroupSpec[] = st.groups.map((g: { path: string; max?: number; protection?: number }) => ({
    path: g.path,
    memoryMax: g.max === undefined ? Infinity : g.max * MIB,
    memoryHigh: Infinity,
    memoryLow: attribute === 'memoryLow' ? (g.protection ?? 0) * MIB : 0,
    memoryMin: attribute === 'memoryMin' ? (g.protection ?? 0) * MIB : 0,
  }));
  const id = new Map<string, number>(cgroups.map((c, i) => [c.path, i + 1])); // "/" is 0
  const caches = st.groups.filter((g: { pagecache?: number }) => (g.pagecache ?? 0) > 0);
  const host = smallHost({
    nodes: [{ pages: GIB, cpu: true }],
    cgroups,
    swapPages: st.swap,
    spaces: [
      ...caches.map((g: { path: string; pagecache: number }) => ({
        pages: g.pagecache * MIB,
        filePages: g.pagecache * MIB,
        memcg: id.get(g.path),
      })),
      { pages: st.first_anon_in_G * MIB, memcg: id.get('/A/G') },
      { pages: st.second_anon_in_G * MIB, memcg: id.get('/A/G') },
    ],
  });
  caches.forEach((_: unknown, i: number) => touch(host, i, 0, host.spaces[i].pages));
  return { host, id };
}

const mib = (host: Host, memcg: number | undefined) => host.cgroups.usage[memcg as number] / MIB;

for (const attribute of ['memoryLow', 'memoryMin'] as const) {
  const knob = attribute === 'memoryLow' ? 'memory.low' : 'memory.min';
  describe(`test_memcg_protection() with ${knob} (kernel selftest)`, () => {
    const st = fixture.selftest;
    const { host, id } = selftestHost(attribute);
    const g1 = host.spaces.length - 2;
    const g2 = host.spaces.length - 1;

    it(`G's ${st.first_anon_in_G}M squeeze B to about its 50M, split as the kernel's`, () => {
      assert.equal(mib(host, id.get('/A/B')), 150);
      touch(host, g1, 0, host.spaces[g1].pages);
      assert.ok(host.spaces[g1].alive, 'no OOM: B has unprotected page cache to give');
      for (const e of st.expect_after_first) {
        const got = mib(host, id.get(e.path));
        assert.ok(
          valuesClose(got, e.current, e.err),
          `${e.path}: ${got.toFixed(1)}M, expected ${e.current}M ± ${e.err}%`,
        );
      }
      assert.ok(
        mib(host, id.get('/A/B/E')) < mib(host, id.get('/A/B/D')),
        'the unprotected group gives most',
      );
      assert.equal(verifyHost(host), null);
    });

    const exp = st.expect_after_second[knob];
    it(`then ${st.second_anon_in_G}M more ${exp.allocation === 'fails' ? 'fail (OOM): memory.min holds' : 'succeed: memory.low gives way'}`, () => {
      host.killSpace(host.spaces[g1]); // the first allocating process exits
      touch(host, g2, 0, host.spaces[g2].pages);
      assert.equal(host.spaces[g2].alive, exp.allocation === 'succeeds');
      const b = mib(host, id.get('/A/B'));
      assert.ok(
        valuesClose(b, exp.B_current, exp.err),
        `B: ${b.toFixed(1)}M, expected ${exp.B_current}M ± ${exp.err}%`,
      );
      if (exp.low_events !== undefined) {
        for (const [path, want] of Object.entries(exp.low_events)) {
          const n = host.cgroups.eventCount(id.get(path) as number, 'low');
          if (want === '>0') assert.ok(n > 0, `${path}: low events ${n}`);
          else assert.equal(n, want, `${path}: low events`);
        }
        for (const path of ['/A/B/C', '/A/B/D', '/A/B/E', '/A/B/F']) {
          assert.equal(host.cgroups.eventCount(id.get(path) as number, 'oom'), 0, `${path}: oom events`);
        }
      }
      assert.equal(verifyHost(host), null);
    });

    it('memory.reclaim on C itself goes through its protection (the target is unprotected)', () => {
      const c = id.get('/A/B/C') as number;
      const goal = st.then_reclaim_C_until * MIB;
      for (let tries = 0; tries < 5 && host.cgroups.usage[c] > goal; tries++) {
        proactiveReclaim(host, c, host.cgroups.usage[c] - goal);
      }
      assert.ok(host.cgroups.usage[c] <= goal, `C: ${mib(host, c).toFixed(1)}M`);
    });
  });
}
