import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HZ,
  MEMCG_CHARGE_BATCH,
  MEMCG_MAX_HIGH_DELAY_JIFFIES,
  calculateOverage,
  highDelayJiffies,
} from '../src/host/memcg-high.js';
import { smallHost, touch } from './host-support.js';
import { verifyHost } from '../src/host/verify.js';

describe('memory.high penalty (calculate_high_delay)', () => {
  it('grows with the square of the overage: 10 % over costs a full batch 0.64 s, 20 % about four times that', () => {
    const ten = calculateOverage(1100, 1000);
    assert.equal(ten, Math.floor((100 * 2 ** 20) / 1000));
    // overage² · HZ >> 34 = 0.1² · 2^40 · 250 / 2^34 = 160 jiffies; a full batch keeps all of it.
    assert.equal(highDelayJiffies(ten, MEMCG_CHARGE_BATCH), 159);
    const twenty = calculateOverage(1200, 1000);
    assert.equal(highDelayJiffies(twenty, MEMCG_CHARGE_BATCH), 639);
    // One page of a batch owes 1/64 of it: under the 10 ms (HZ / 100) floor at 10 % over.
    assert.ok(highDelayJiffies(ten, 1) <= Math.floor(HZ / 100));
    assert.equal(calculateOverage(1000, 1000), 0, 'at memory.high: no overage');
    assert.equal(calculateOverage(5, 0), 5 * 2 ** 20, 'memory.high 0 acts as one page');
    assert.ok(
      highDelayJiffies(calculateOverage(4000, 1000), MEMCG_CHARGE_BATCH) > MEMCG_MAX_HIGH_DELAY_JIFFIES,
    );
  });
});

describe('memory.high on the simulated host (mem_cgroup_handle_over_high)', () => {
  // One group with memory.high 1024 pages; its task touches 2048 anon pages.
  const run = (swapPages: number) => {
    const host = smallHost({
      nodes: [{ pages: 8192, cpu: true }],
      cgroups: [{ path: '/g', memoryMax: Infinity, memoryHigh: 1024, memoryLow: 0 }],
      spaces: [{ pages: 2048, memcg: 1 }],
      swapPages,
    });
    touch(host, 0, 0, 2048);
    assert.equal(verifyHost(host), null);
    return host;
  };

  it('with swap, reclaim holds the group close to memory.high and the task is not throttled', () => {
    const host = run(4096);
    const usage = host.cgroups.usage[1];
    assert.ok(usage <= 1024 * 1.02 + MEMCG_CHARGE_BATCH, `usage ${usage}`);
    assert.equal(host.spaces[0].highThrottleNs, 0);
    assert.ok(host.cgroups.eventCount(1, 'high') > 0, 'high events');
  });

  it('without swap nothing can be reclaimed: the task sleeps, longer the further over it goes', () => {
    const host = run(0);
    assert.equal(host.cgroups.usage[1], 2048, 'memory.high never fails a charge');
    const slept = host.spaces[0].highThrottleNs;
    // The first batch past 1024 pages is barely over and sleeps little; the last ones near 2048
    // (100 % over) hit the 2 s clamp. 16 batches, so between 2 s and 16 × 2 s in all.
    assert.ok(slept > 2e9 && slept <= 16 * 2e9, `slept ${slept / 1e9} s`);
    assert.ok(host.cgroups.eventCount(1, 'high') > 0);
  });
});
