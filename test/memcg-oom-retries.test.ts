import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RECLAIM_RETRIES } from '../src/host/mm-constants.js';
import { smallHost } from './host-support.js';

describe('try_charge() after a memcg OOM kill', () => {
  it('starts a fresh round of MAX_RECLAIM_RETRIES reclaim attempts before the next kill', () => {
    // /g is full of unreclaimable kernel pages; three tasks in it, none with a page of its own.
    // A fault of the third cannot be charged: each OOM kill frees nothing, so the charge goes on
    // until the faulting task itself is the victim. try_charge_memcg() sets nr_retries back to
    // MAX_RECLAIM_RETRIES after every successful mem_cgroup_oom(), so each of the three kills
    // comes after a full round of reclaim attempts, each counted as a memory.events max.
    const host = smallHost({
      nodes: [{ pages: 4096, cpu: true }],
      cgroups: [{ path: '/g', memoryMax: 100, memoryHigh: Infinity, memoryLow: 0 }],
      spaces: [
        { pages: 64, memcg: 1 },
        { pages: 64, memcg: 1 },
        { pages: 64, memcg: 1 },
      ],
    });
    assert.equal(host.allocKernelPages(1, Int32Array.of(0), 100), 100);
    const faulting = host.spaces[2];
    assert.equal(host.fault(faulting, 0, false), -1, 'the faulting task is killed last');
    assert.equal(host.cgroups.eventCount(1, 'oom_kill'), 3);
    assert.equal(host.cgroups.eventCount(1, 'oom'), 3);
    assert.equal(host.cgroups.eventCount(1, 'max'), 3 * MAX_RECLAIM_RETRIES);
    assert.ok(host.spaces.every((as) => !as.alive));
  });
});
