import { verifyHost } from '../src/host/verify.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NumaTiering } from '../src/host/numa-tiering.js';
import { PF_ACTIVE, PF_REFERENCED } from '../src/host/frames.js';
import type { Host } from '../src/host/host.js';
import { PROMOTION_FILTERS } from '../src/policies/promotion/index.js';
import {
  NOT_HOT,
  PROMOTE,
  type PromotionFilter,
  type PromotionFilterModule,
} from '../src/policies/promotion/types.js';
import { check, runVerified, tieredScenario } from './conformance-support.js';
import { smallHost, touch } from './host-support.js';

/**
 * The conformance suite every registered promotion filter passes (generated from the
 * registry): a run with it keeps the host's invariants (pages conserved, counters equal a
 * recount, no page on two lists: verifyHost()), is byte-identical for the same seed, and the
 * filter keeps its documented contract. Every module must have a contract below: a new filter
 * without one fails the suite.
 */

/** A host with one fast node with a CPU and a slow node, and pages 0..31 of VM 0 on the slow one. */
function slowPages(): Host {
  const host = smallHost({
    nodes: [
      { pages: 256, cpu: true, wmarks: [1, 2, 3, 4] },
      { pages: 512, cpu: false },
    ],
    spaces: [{ pages: 64, order: [1, 0] }],
    numaBalancing: 2,
  });
  touch(host, 0, 0, 32);
  return host;
}

function build(m: PromotionFilterModule, params: object = {}): PromotionFilter {
  return m.create(params, {
    states: NumaTiering.nodeStates(2),
    rateLimitPages: 1e9,
    hotThresholdMs: 1000,
    scanPeriodMaxMs: 60_000,
  });
}

/** One hint fault on page v of VM 0 at time nowMs, from the fast node's CPU. */
function fault(host: Host, filter: PromotionFilter, v: number, nowMs: number): number {
  const p = host.pfnAt(host.spaces[0].base + v);
  assert.equal(host.frames.nodeOf(p), 1, 'the page is not on the slow node');
  return filter.decide({ host, nowMs, p, src: 1, dst: 0, task: 0, cpupid: 0 });
}

const CONTRACTS: Record<string, () => void> = {
  none() {
    const host = slowPages();
    const f = build(PROMOTION_FILTERS.get('none'));
    for (let i = 0; i < 5; i++)
      for (let v = 0; v < 32; v++) assert.equal(fault(host, f, v, i * 100), NOT_HOT);
  },
  always() {
    const host = slowPages();
    const f = build(PROMOTION_FILTERS.get('always'));
    for (let v = 0; v < 32; v++) assert.equal(fault(host, f, v, v), PROMOTE, `page ${v} not promoted`);
  },
  'active-lru'() {
    // mark_page_accessed(): an inactive page is first referenced, then activated, then promoted.
    const host = slowPages();
    const f = build(PROMOTION_FILTERS.get('active-lru'));
    const p = host.pfnAt(host.spaces[0].base + 3);
    host.frames.setFlags(p, host.frames.flagsOf(p) & ~(PF_ACTIVE | PF_REFERENCED));
    assert.equal(fault(host, f, 3, 1), NOT_HOT);
    assert.notEqual(host.frames.flagsOf(p) & PF_REFERENCED, 0, 'first fault does not set PG_referenced');
    assert.equal(host.frames.flagsOf(p) & PF_ACTIVE, 0);
    assert.equal(fault(host, f, 3, 2), NOT_HOT);
    assert.notEqual(host.frames.flagsOf(p) & PF_ACTIVE, 0, 'second fault does not activate the page');
    assert.equal(verifyHost(host), null, 'activation broke the LRU lists');
    assert.equal(fault(host, f, 3, 3), PROMOTE, 'an active page is not promoted');
  },
  'two-reference'() {
    // A first reference (a freshly faulted page: no previous hint fault) never promotes.
    const host = slowPages();
    const f = build(PROMOTION_FILTERS.get('two-reference'));
    for (let v = 0; v < 32; v++) assert.equal(fault(host, f, v, v), NOT_HOT);
  },
  'hot-threshold'() {
    // With the fast node below its promo watermark, a fault soon after the scan promotes and
    // one long after the hot threshold does not.
    const host = slowPages();
    host.wmarkPromo[0] = 1e9;
    const f = build(PROMOTION_FILTERS.get('hot-threshold'), { hot_threshold_adjust: false });
    const p = host.pfnAt(host.spaces[0].base + 1);
    host.frames.setStamp(p, 10_000);
    assert.equal(fault(host, f, 1, 10_010), PROMOTE, 'a hot page is not promoted');
    const q = host.pfnAt(host.spaces[0].base + 2);
    host.frames.setStamp(q, 10_000);
    assert.equal(fault(host, f, 2, 15_000), NOT_HOT, 'a cold page is promoted');
  },
  'hint-fault-count'() {
    // Threshold 3 within 1 s: the third fault promotes; faults spread wider than the window never do.
    const host = slowPages();
    const f = build(PROMOTION_FILTERS.get('hint-fault-count'), {
      hint_fault_count_threshold: 3,
      hint_fault_count_window_ms: 1000,
    });
    assert.equal(fault(host, f, 5, 100), NOT_HOT);
    assert.equal(fault(host, f, 5, 200), NOT_HOT);
    assert.equal(fault(host, f, 5, 300), PROMOTE, 'three faults within the window do not promote');
    for (let i = 0; i < 6; i++) assert.equal(fault(host, f, 6, 2000 + i * 1500), NOT_HOT);
  },
};

for (const m of PROMOTION_FILTERS.modules()) {
  describe(`promotion filter ${m.id}: conformance`, () => {
    check(m, 'invariants-and-determinism', () => {
      const a = runVerified(tieredScenario({ promotion_filter: m.id }));
      const b = runVerified(tieredScenario({ promotion_filter: m.id }));
      assert.equal(a.bytes, b.bytes, 'two runs with the same seed differ');
      assert.equal(a.summary.tiering.promotion_filter, m.id);
      if (m.id === 'none') assert.equal(a.summary.vmstat.pgpromote_success, 0, 'none promoted pages');
    });
    check(m, 'contract', () => {
      const contract = CONTRACTS[m.id];
      assert.ok(contract, `promotion filter ${m.id} has no contract in the conformance suite`);
      contract();
    });
  });
}

it('the promotion-filter registry refuses a parameter of another filter, naming it', () => {
  assert.throws(
    () => tieredScenario({ promotion_filter: 'always', hot_threshold_adjust: false }),
    /tiering\.hot_threshold_adjust: only used by promotion_filter hot-threshold, not always$/,
  );
});
