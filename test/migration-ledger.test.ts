import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MR } from '../src/host/migration-ledger.js';
import { PTE_PFN_MASK, PTE_SWAP } from '../src/host/pte.js';
import { smallHost, touch } from './host-support.js';

/** Two DRAM nodes with CPUs and a CPU-less slow node; one VM of 8 pages on node 0. */
function ledgerHost() {
  const host = smallHost({
    nodes: [
      { pages: 64, cpu: true },
      { pages: 64, cpu: true },
      { pages: 64, cpu: false },
    ],
    spaces: [{ pages: 8, order: [0] }],
    swapPages: 64,
  });
  touch(host, 0, 0, 8);
  const g = host.spaces[0].base + 3;
  const pfn = () => host.pt[g] & PTE_PFN_MASK;
  return { host, g, pfn };
}

test('ledger: a demotion records the node left; demoting back into it is a cycle', () => {
  const { host, g, pfn } = ledgerHost();
  host.migratePage(pfn(), 1, 0, MR.demote_kswapd);
  assert.equal(host.ledger.hasLeft(g, 0), true);
  assert.equal(host.ledger.hasLeft(g, 1), false);
  assert.equal(host.ledger.demotionCycles[0], 0);
  host.migratePage(pfn(), 0, 0, MR.demote_kswapd); // back into node 0: a cycle
  assert.equal(host.ledger.demotionCycles[0], 1);
});

test('ledger: a page evicted and faulted in again starts a new demotion cycle', () => {
  const { host, g, pfn } = ledgerHost();
  host.migratePage(pfn(), 1, 0, MR.demote_kswapd);
  host.migratePage(pfn(), 2, 0, MR.demote_kswapd);
  assert.equal(host.ledger.hasLeft(g, 1), true);
  host.freeUserPage(pfn(), PTE_SWAP); // swapped out
  host.swapUsed++;
  assert.equal(host.ledger.hasLeft(g, 1), false);
  assert.ok(host.fault(host.spaces[0], 3, false) >= 0);
  assert.equal(host.frames.nodeOf(pfn()), 0, 'faulted back in on node 0');
  // Node 1 was left before the eviction only: demoting into it again is not a cycle.
  host.migratePage(pfn(), 1, 0, MR.demote_kswapd);
  assert.equal(host.ledger.demotionCycles[0], 0);
});

test('ledger: a demotion soon after a promotion is ping-pong, unless the page was evicted between', () => {
  const { host, pfn } = ledgerHost();
  // Node 2 is slower (tier 22) than node 0 (tier 4): 2 → 0 is a promotion.
  host.migratePage(pfn(), 2, 0, MR.demote_kswapd);
  host.now = 10e6;
  host.migratePage(pfn(), 0, 0, MR.promote_hint_fault);
  host.now = 20e6;
  host.migratePage(pfn(), 2, 0, MR.demote_kswapd);
  assert.equal(host.ledger.pingpong[0], 1);
  host.now = 30e6;
  host.migratePage(pfn(), 0, 0, MR.promote_hint_fault);
  host.freeUserPage(pfn(), PTE_SWAP);
  host.swapUsed++;
  assert.ok(host.fault(host.spaces[0], 3, false) >= 0);
  host.now = 40e6;
  host.migratePage(pfn(), 2, 0, MR.demote_kswapd);
  assert.equal(host.ledger.pingpong[0], 1, 'the promotion before the eviction does not count');
});
