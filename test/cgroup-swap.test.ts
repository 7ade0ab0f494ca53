import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { smallHost, touch } from './host-support.js';
import { verifyHost } from '../src/host/verify.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures');
const fx = JSON.parse(readFileSync(join(fixtures, 'kernel-memcg-swap-max.json'), 'utf8'));
const MIB = 256; // 4 KiB pages

/** The selftests' values_close(): |a - b| <= (a + b) / 100 * err. */
const valuesClose = (a: number, b: number, err: number) => Math.abs(a - b) <= ((a + b) / 100) * err;

/**
 * The kernel's memory.swap.max selftest on the simulated host: a group limited to 30M of
 * memory and 30M of swap. 100M of anon memory cannot fit and is OOM-killed; 50M fits, 30M in
 * memory and the rest in swap.
 */
describe('memory.swap.max (kernel selftest test_memcg_swap_max)', () => {
  const host = smallHost({
    nodes: [{ pages: 1024 * MIB, cpu: true }],
    cgroups: [
      {
        path: '/g',
        memoryMax: fx['memory.max'] * MIB,
        memoryHigh: Infinity,
        memoryLow: 0,
        swapMax: fx['memory.swap.max'] * MIB,
      },
    ],
    spaces: [
      { pages: fx.first_anon * MIB, memcg: 1 },
      { pages: fx.second_anon * MIB, memcg: 1 },
    ],
    swapPages: 1024 * MIB,
  });
  const cg = host.cgroups;

  it(`${fx.first_anon}M of anon memory is OOM-killed once memory and swap are full`, () => {
    touch(host, 0, 0, host.spaces[0].pages);
    assert.equal(host.spaces[0].alive, false);
    assert.equal(cg.eventCount(1, 'oom'), fx.first_expect.oom);
    assert.equal(cg.eventCount(1, 'oom_kill'), fx.first_expect.oom_kill);
    assert.equal(cg.usage[1], 0, 'the killed task left nothing charged');
    assert.equal(cg.swapUsage[1], 0, 'nor any swap');
    // As the selftest reads memory.peak and memory.swap.peak: both limits were reached.
    assert.ok(valuesClose(cg.peak[1] / MIB, fx['memory.max'], 3), `memory.peak ${cg.peak[1] / MIB}M`);
    assert.ok(
      valuesClose(cg.swapPeak[1] / MIB, fx['memory.swap.max'], 3),
      `memory.swap.peak ${cg.swapPeak[1] / MIB}M`,
    );
    assert.ok(cg.peak[1] <= cg.memoryMax[1] && cg.swapPeak[1] <= cg.swapMax[1]);
    assert.equal(verifyHost(host), null);
  });

  it(`${fx.second_anon}M fits: memory.current at memory.max, the rest in swap`, () => {
    touch(host, 1, 0, host.spaces[1].pages);
    assert.equal(host.spaces[1].alive, true);
    const mem = cg.usage[1] / MIB;
    const swap = cg.swapUsage[1] / MIB;
    const e = fx.second_expect;
    assert.ok(valuesClose(mem, e['memory.current'].value, e['memory.current'].err), `memory.current ${mem}M`);
    const both = e['memory.current + memory.swap.current'];
    assert.ok(valuesClose(mem + swap, both.value, both.err), `memory + swap ${mem + swap}M`);
    assert.ok(cg.swapUsage[1] <= cg.swapMax[1]);
    assert.equal(verifyHost(host), null);
  });
});
