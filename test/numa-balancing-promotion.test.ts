import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { PTE_PFN_MASK } from '../src/host/pte.js';
import { hotThresholdFilter } from '../src/policies/promotion/hot-threshold.js';
import { rateLimited } from '../src/policies/promotion/rate-limit.js';
import {
  ACCESS_TIME_MASK,
  hostClockMs,
  NOT_HOT,
  PROMOTE,
  RATE_LIMITED,
  type PromotionFault,
  type PromotionFilterConfig,
} from '../src/policies/promotion/types.js';
import { smallHost, touch } from './host-support.js';
import {
  DEFAULT_CPUPID_LAYOUT,
  NUMA_BALANCING_DEFAULTS,
  PromotionDecision,
  type TieringFaultInput,
  accessTimeToCpupidField,
  cpupidLayout,
  freeSpaceEnoughMark,
  isPromote,
  migrateBalancedPgdat,
  newNumaBalancingNodeState,
  numaHintFaultLatency,
  numaHintFaultLatencyFromField,
  numaPromotionAdjustThreshold,
  numaPromotionRateLimit,
  pgdatFreeSpaceEnough,
  rateLimitPages,
  resetMemoryTiering,
  shouldNumaMigrateMemoryTiering,
  sysctl_numa_balancing_hot_threshold,
  sysctl_numa_balancing_promote_rate_limit,
  sysctl_numa_balancing_scan_delay,
  sysctl_numa_balancing_scan_period_max,
  sysctl_numa_balancing_scan_period_min,
  sysctl_numa_balancing_scan_size,
} from '../src/host/numa-balancing/index.js';

const ce4 = JSON.parse(
  readFileSync(new URL('../../test/fixtures/kernel-ce4-numa-balancing.json', import.meta.url), 'utf8'),
) as {
  defaults: Record<string, number>;
  rate_limit_pages_per_s: { rows: { MBps: number; pages: number }[] };
  adjust_threshold: {
    ref_th_ms: number;
    unit_th_ms: number;
    min_th_ms: number;
    max_th_ms: number;
    period_ms: number;
    ref_cand_per_period: { MBps: number; pages: number }[];
    bounds_100_MBps: { decrease_if_diff_gt: number; increase_if_diff_lt: number };
    sequence_when_always_too_many: number[];
    sequence_when_always_too_few: number[];
  };
  hint_fault_latency: { rows: { scan_ms: number; fault_ms: number; th_ms: number; hot: boolean }[] };
  rate_limit_window: { rate_limit_pages: number; allowed_per_window: number };
  free_space_enough_pages: { rows: { node: string; present_pages: number; enough_pages: number }[] };
};

const MASK = DEFAULT_CPUPID_LAYOUT.PAGE_ACCESS_TIME_MASK;

test('defaults carry the kernel values', () => {
  const d = ce4.defaults;
  assert.equal(sysctl_numa_balancing_scan_delay, d.scan_delay_ms);
  assert.equal(sysctl_numa_balancing_scan_period_min, d.scan_period_min_ms);
  assert.equal(sysctl_numa_balancing_scan_period_max, d.scan_period_max_ms);
  assert.equal(sysctl_numa_balancing_scan_size, d.scan_size_mb);
  assert.equal(sysctl_numa_balancing_hot_threshold, d.hot_threshold_ms);
  assert.equal(sysctl_numa_balancing_promote_rate_limit, d.promote_rate_limit_MBps);
  assert.equal(NUMA_BALANCING_DEFAULTS.scan_period_max, d.scan_period_max_ms);
});

for (const row of ce4.rate_limit_pages_per_s.rows) {
  test(`CE-4 rate limit ${row.MBps} MB/s = ${row.pages} pages/s`, () => {
    assert.equal(rateLimitPages(row.MBps), row.pages);
  });
}

/** Runs the adjustment once per period with `diff` candidates counted in each period. */
function thresholdsOverPeriods(mbps: number, diffPerPeriod: number, periods: number): number[] {
  const a = ce4.adjust_threshold;
  const st = newNumaBalancingNodeState();
  const out: number[] = [];
  let now = 0;
  for (let i = 0; i < periods; i++) {
    st.pgpromote_candidate += diffPerPeriod;
    now += a.period_ms + 1; // strictly more than scan_period_max since the last adjustment
    numaPromotionAdjustThreshold(st, now, rateLimitPages(mbps), a.ref_th_ms, a.period_ms);
    out.push(st.nbp_threshold);
  }
  return out;
}

test('CE-4 adjust_threshold: always too many candidates', () => {
  const a = ce4.adjust_threshold;
  const seq = thresholdsOverPeriods(
    100,
    a.bounds_100_MBps.decrease_if_diff_gt + 1,
    a.sequence_when_always_too_many.length,
  );
  assert.deepEqual(seq, a.sequence_when_always_too_many);
  assert.equal(Math.min(...seq), a.min_th_ms);
  assert.equal(seq[0] - seq[1], a.unit_th_ms);
});

test('CE-4 adjust_threshold: always too few candidates', () => {
  const a = ce4.adjust_threshold;
  const seq = thresholdsOverPeriods(100, 0, a.sequence_when_always_too_few.length);
  assert.deepEqual(seq, a.sequence_when_always_too_few);
  assert.equal(Math.max(...seq), a.max_th_ms);
});

test('CE-4 adjust_threshold: ref_cand bounds are 110 % / 90 % of rate_limit × period, exclusive', () => {
  const a = ce4.adjust_threshold;
  for (const r of a.ref_cand_per_period) {
    const upper = Math.floor((r.pages * 11) / 10);
    const lower = Math.floor((r.pages * 9) / 10);
    assert.deepEqual(thresholdsOverPeriods(r.MBps, upper, 1), [a.ref_th_ms], `${r.MBps}: at 110 % no change`);
    assert.deepEqual(thresholdsOverPeriods(r.MBps, upper + 1, 1), [a.ref_th_ms - a.unit_th_ms]);
    assert.deepEqual(thresholdsOverPeriods(r.MBps, lower, 1), [a.ref_th_ms], `${r.MBps}: at 90 % no change`);
    assert.deepEqual(thresholdsOverPeriods(r.MBps, lower - 1, 1), [a.ref_th_ms + a.unit_th_ms]);
  }
  assert.equal(Math.floor((1536000 * 11) / 10), a.bounds_100_MBps.decrease_if_diff_gt);
  assert.equal(Math.floor((1536000 * 9) / 10), a.bounds_100_MBps.increase_if_diff_lt);
});

test('adjust_threshold waits strictly more than scan_period_max between adjustments', () => {
  const st = newNumaBalancingNodeState();
  numaPromotionAdjustThreshold(st, 60000, 25600, 1000, 60000);
  assert.equal(st.nbp_threshold, 0, 'now - start == period: no adjustment');
  numaPromotionAdjustThreshold(st, 60001, 25600, 1000, 60000);
  assert.equal(st.nbp_threshold, 1125);
  assert.equal(st.nbp_th_start, 60001);
});

for (const row of ce4.hint_fault_latency.rows) {
  test(`CE-4 hint fault latency scan ${row.scan_ms} fault ${row.fault_ms}: hot=${row.hot}`, () => {
    const latency = numaHintFaultLatency(row.scan_ms, row.fault_ms, MASK);
    assert.equal(latency, row.fault_ms - row.scan_ms);
    assert.equal(latency < row.th_ms, row.hot);
    // Through the decision: a non-hot page is refused and not counted as a candidate.
    const st = newNumaBalancingNodeState();
    st.nbp_th_start = row.fault_ms; // no adjustment during this fault
    const d = shouldNumaMigrateMemoryTiering(st, fault({ nowMs: row.fault_ms, lastScanMs: row.scan_ms }));
    assert.equal(d, row.hot ? PromotionDecision.PROMOTE : PromotionDecision.NOT_HOT);
    assert.equal(st.pgpromote_candidate, row.hot ? 1 : 0);
  });
}

test('access time is kept modulo 2^LAST_CPUPID_SHIFT ms (default 21 bits) and survives jiffies wrap', () => {
  assert.equal(DEFAULT_CPUPID_LAYOUT.LAST_CPUPID_SHIFT, 21);
  assert.equal(MASK, 2 ** 21 - 1);
  const scan = 2 ** 21 - 100;
  const stored = accessTimeToCpupidField(scan);
  assert.equal(numaHintFaultLatency(stored, 2 ** 21 + 300, MASK), 400);
  assert.equal(numaHintFaultLatency(accessTimeToCpupidField(2 ** 32 - 100), 300, MASK), 400);
  // A page left unfaulted for longer than the wrap looks recently scanned (kernel behaviour).
  assert.equal(numaHintFaultLatency(0, 2 ** 21 + 500, MASK), 500);
  const l16 = cpupidLayout(8);
  assert.equal(l16.PAGE_ACCESS_TIME_MASK, 0xffff);
  assert.equal(numaHintFaultLatencyFromField(accessTimeToCpupidField(10000, l16), 10000 + 65536 + 7, l16), 7);
});

test('access time buckets for small NR_CPUS_BITS', () => {
  const l = cpupidLayout(2); // LAST_CPUPID_SHIFT 10 < 12 → 4 ms buckets
  assert.equal(l.PAGE_ACCESS_TIME_BUCKETS, 2);
  assert.equal(l.PAGE_ACCESS_TIME_MASK, 0x3ff << 2);
  assert.equal(numaHintFaultLatencyFromField(accessTimeToCpupidField(10001, l), 10400, l), 400);
});

test('rate limit: exactly rate_limit single-page candidates pass per window, windows restart lazily', () => {
  const limit = ce4.rate_limit_window.rate_limit_pages;
  const st = newNumaBalancingNodeState();
  let allowed = 0;
  for (let i = 0; i < limit + 50; i++) if (!numaPromotionRateLimit(st, 5000, limit, 1)) allowed++;
  assert.equal(allowed, ce4.rate_limit_window.allowed_per_window);
  assert.equal(st.pgpromote_candidate, limit + 50, 'limited candidates are counted too');
  assert.equal(st.nbp_rl_start, 5000);
  assert.equal(numaPromotionRateLimit(st, 6000, limit, 1), true, 'now - start == 1000: same window');
  assert.equal(
    numaPromotionRateLimit(st, 6001, limit, 1),
    false,
    'first candidate after > 1000 ms opens a window',
  );
  assert.equal(st.nbp_rl_start, 6001, 'the window starts at that candidate, not on a 1 s grid');
  assert.equal(st.nbp_rl_nr_cand, st.pgpromote_candidate, 'baseline includes the opening candidate');
  // A THP opening the window passes whatever its size; later ones need room under the limit.
  assert.equal(numaPromotionRateLimit(st, 8000, 512, 512), false);
  assert.equal(numaPromotionRateLimit(st, 8001, 512, 511), false);
  assert.equal(numaPromotionRateLimit(st, 8002, 512, 1), true);
});

test('rate limit at boot: the zero-initialised window has a baseline of 0', () => {
  const st = newNumaBalancingNodeState();
  let allowed = 0;
  for (let i = 0; i < 20; i++) if (!numaPromotionRateLimit(st, 500, 10, 1)) allowed++;
  assert.equal(allowed, 9);
});

test('property: per window, allowed pages never exceed the opener plus rate_limit - 1 (rate_limit for single pages)', () => {
  const event = fc.record({ dt: fc.integer({ min: 0, max: 400 }), thp: fc.boolean() });
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2000 }),
      fc.array(event, { maxLength: 400 }),
      fc.boolean(),
      (limit, events, singlePagesOnly) => {
        const st = newNumaBalancingNodeState();
        let now = 2000;
        let windowStart = -1;
        let allowedPages = 0;
        let allowedCount = 0;
        let opener = 0;
        for (const e of events) {
          now += e.dt;
          const nr = e.thp && !singlePagesOnly ? 512 : 1;
          const limited = numaPromotionRateLimit(st, now, limit, nr);
          if (st.nbp_rl_start !== windowStart) {
            windowStart = st.nbp_rl_start;
            allowedPages = 0;
            allowedCount = 0;
            opener = nr;
            assert.equal(limited, false, 'the opening candidate always passes');
          }
          if (!limited) {
            allowedPages += nr;
            allowedCount++;
          }
          assert.ok(allowedPages <= opener + limit - 1);
          if (singlePagesOnly) assert.ok(allowedCount <= limit);
          assert.ok(now - windowStart <= 1000, 'a window never outlives 1000 ms');
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('property: the threshold stays in [unit_th, 2·ref_th] and moves in unit_th steps', () => {
  const period = fc.record({
    diff: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000_000 })),
    gap: fc.integer({ min: 0, max: 130_000 }),
    freeSpaceReset: fc.boolean(),
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 16, max: 5000 }),
      fc.integer({ min: 1, max: 1000 }),
      fc.array(period, { maxLength: 60 }),
      (refTh, mbps, periods) => {
        const st = newNumaBalancingNodeState();
        const unit = Math.floor((refTh * 2) / 16);
        let now = 0;
        for (const p of periods) {
          st.pgpromote_candidate += p.diff;
          now += p.gap;
          const before = st.nbp_threshold || refTh;
          numaPromotionAdjustThreshold(st, now, rateLimitPages(mbps), refTh, 60000);
          const th = st.nbp_threshold || refTh;
          assert.ok(th >= unit && th <= 2 * refTh, `th ${th} outside [${unit}, ${2 * refTh}]`);
          const step = Math.abs(th - before);
          assert.ok(step === 0 || step === unit || th === unit || th === 2 * refTh, `step ${step}`);
          if (p.freeSpaceReset) st.nbp_threshold = 0; // pgdat_free_space_enough() bypass
        }
      },
    ),
    { numRuns: 300 },
  );
});

for (const row of ce4.free_space_enough_pages.rows) {
  test(`CE-4 free space enough margin for a ${row.node} node is ${row.enough_pages} pages`, () => {
    assert.equal(freeSpaceEnoughMark(row.present_pages), row.enough_pages);
    const promo = 58523;
    assert.equal(
      pgdatFreeSpaceEnough(promo + row.enough_pages, promo, row.present_pages),
      false,
      'free == mark is not enough',
    );
    assert.equal(pgdatFreeSpaceEnough(promo + row.enough_pages + 1, promo, row.present_pages), true);
    assert.equal(
      pgdatFreeSpaceEnough(promo + row.enough_pages + 1, promo, row.present_pages, 1),
      false,
      'lowmem reserve',
    );
  });
}

test('migrate_balanced_pgdat: free must exceed high watermark + nr', () => {
  assert.equal(migrateBalancedPgdat(12484 + 512, 12484, 512), false);
  assert.equal(migrateBalancedPgdat(12484 + 513, 12484, 512), true);
  assert.equal(migrateBalancedPgdat(12485, 12484, 1), false);
});

test('reset_memory_tiering restarts threshold adjustment but not the rate-limit window', () => {
  const st = newNumaBalancingNodeState();
  st.pgpromote_candidate = 777;
  st.nbp_threshold = 500;
  st.nbp_rl_start = 42;
  st.nbp_rl_nr_cand = 700;
  resetMemoryTiering(st, 123456);
  assert.deepEqual(st, {
    nbp_rl_start: 42,
    nbp_rl_nr_cand: 700,
    nbp_threshold: 0,
    nbp_th_start: 123456,
    nbp_th_nr_cand: 777,
    pgpromote_candidate: 777,
    pgpromote_candidate_nrl: 0,
  });
});

function fault(over: Partial<TieringFaultInput>): TieringFaultInput {
  return {
    nowMs: 10400,
    lastScanMs: 10000,
    accessTimeMask: MASK,
    nr: 1,
    dstHasMemory: true,
    dstFreePages: 20000, // well below PROMO + 1 GiB
    dstPromoWmark: 16678,
    dstPresentPages: 4194304,
    hotThresholdMs: 1000,
    rateLimitPages: rateLimitPages(100),
    scanPeriodMaxMs: 60000,
    ...over,
  };
}

test('tiering decision: free-space bypass skips threshold and rate limit, counts pgpromote_candidate_nrl', () => {
  const st = newNumaBalancingNodeState();
  st.nbp_threshold = 250;
  const d = shouldNumaMigrateMemoryTiering(
    st,
    fault({ lastScanMs: 0, nowMs: 50000, dstFreePages: 16678 + 262145, nr: 512 }),
  );
  assert.equal(d, PromotionDecision.PROMOTE_FREE_SPACE);
  assert.ok(isPromote(d));
  assert.equal(st.nbp_threshold, 0);
  assert.equal(st.pgpromote_candidate, 0);
  assert.equal(st.pgpromote_candidate_nrl, 512);
});

test('tiering decision: adjusted threshold, rate limit, memoryless destination', () => {
  const st = newNumaBalancingNodeState();
  st.nbp_threshold = 250;
  st.nbp_th_start = 10400;
  assert.equal(shouldNumaMigrateMemoryTiering(st, fault({ lastScanMs: 10150 })), PromotionDecision.NOT_HOT);
  assert.equal(shouldNumaMigrateMemoryTiering(st, fault({ lastScanMs: 10151 })), PromotionDecision.PROMOTE);
  const limited = newNumaBalancingNodeState();
  limited.nbp_th_start = 10400;
  const input = fault({ rateLimitPages: 2 });
  const got = [1, 2, 3].map(() => shouldNumaMigrateMemoryTiering(limited, input));
  assert.deepEqual(got, [
    PromotionDecision.PROMOTE,
    PromotionDecision.PROMOTE,
    PromotionDecision.RATE_LIMITED,
  ]);
  assert.equal(isPromote(PromotionDecision.RATE_LIMITED), false);
  assert.equal(
    shouldNumaMigrateMemoryTiering(st, fault({ dstHasMemory: false })),
    PromotionDecision.DST_NO_MEMORY,
  );
});

test('tiering decision adjusts the threshold even for a page that turns out not hot', () => {
  const st = newNumaBalancingNodeState();
  const d = shouldNumaMigrateMemoryTiering(st, fault({ nowMs: 70000, lastScanMs: 60000 }));
  assert.equal(d, PromotionDecision.NOT_HOT);
  assert.equal(st.nbp_threshold, 1125, 'no candidates in the first period: threshold loosened');
});

test('hot-threshold filter: the scan time kept in a frame wraps at 2^21 ms, as PAGE_ACCESS_TIME_MASK', () => {
  // One DRAM node with a CPU and a CPU-less slow node; the destination is kept below its
  // promo watermark's free-space margin so the threshold rule, not free space, decides.
  const host = smallHost({
    nodes: [
      { pages: 256, cpu: true },
      { pages: 256, cpu: false },
    ],
    spaces: [{ pages: 300 }],
    numaBalancing: 2,
  });
  touch(host, 0, 0, 300);
  const p = host.pt[host.spaces[0].base + 299] & PTE_PFN_MASK;
  assert.equal(host.frames.nodeOf(p), 1, 'the last page touched spilled to the slow node');
  const states = [newNumaBalancingNodeState(), newNumaBalancingNodeState()];
  const filter = hotThresholdFilter({
    states,
    rateLimitPages: 1e9,
    hotThresholdMs: NUMA_BALANCING_DEFAULTS.hot_threshold,
    scanPeriodMaxMs: NUMA_BALANCING_DEFAULTS.scan_period_max,
  });
  const fault = (scanMs: number, faultMs: number): number => {
    host.frames.setStamp(p, scanMs & ACCESS_TIME_MASK); // as the scanner records it
    return filter.decide({ host, nowMs: faultMs, p, src: 1, dst: 0, task: 0, cpupid: 0 });
  };
  assert.equal(ACCESS_TIME_MASK, 2 ** 21 - 1);
  assert.equal(fault(1000, 1005), PROMOTE, '5 ms after the scan: hot');
  // 2^16 ms + 5 later: a 16-bit field would alias this to 5 ms and call it hot.
  assert.equal(fault(1000, 1000 + 2 ** 16 + 5), NOT_HOT);
  // Across the 2^21 wrap the latency is still computed modulo 2^21: hot.
  assert.equal(fault(2 ** 21 - 2, 2 ** 21 + 3), PROMOTE);
});

test('tiering decision: hot_threshold_adjust false keeps the threshold at the tunable', () => {
  // A period with no candidates: the kernel (adjustThreshold default) raises the threshold by
  // unit_th; with the adjustment off (the series before its third patch) it stays unset.
  const on = newNumaBalancingNodeState();
  const off = newNumaBalancingNodeState();
  shouldNumaMigrateMemoryTiering(on, fault({ nowMs: 70000, lastScanMs: 69900 }));
  shouldNumaMigrateMemoryTiering(off, fault({ nowMs: 70000, lastScanMs: 69900, adjustThreshold: false }));
  assert.equal(on.nbp_threshold, 1125);
  assert.equal(off.nbp_threshold, 0);
  assert.equal(off.nbp_th_start, 0);
});

test('promotion windows use the host time: a task whose clock lags does not restart them', () => {
  // Two tasks fault on the same destination, one 1 ms behind the other. Read as u32 differences,
  // 1000 after a window opened at 1001 is 49 days later; the host clock never goes back.
  const config: PromotionFilterConfig = {
    states: [newNumaBalancingNodeState()],
    rateLimitPages: 2,
    hotThresholdMs: 1000,
    scanPeriodMaxMs: 60000,
  };
  const at = (nowMs: number) => rateLimited(config, { dst: 0, nowMs } as PromotionFault);
  const got = [1001, 1000, 1001, 1000, 1002].map(at);
  assert.deepEqual(got, [PROMOTE, PROMOTE, RATE_LIMITED, RATE_LIMITED, RATE_LIMITED]);
  assert.equal(hostClockMs(config, 999), 1002);
});
