import { SMALL_NODE_KERNEL, TIME_SCALED_NUMA_BALANCING, cxlNode, dramNode } from '../hosts.js';
import type { Experiment, ExperimentResult } from '../types.js';
import { byLabel, fmt, measuredRate, pct, publishedReport, rel, vm } from './util.js';

const SOURCE = 'Hasan Al Maruf, "[PATCH 0/5] Transparent Page Placement for Tiered-Memory", LKML 2021-11-24';

/** Share of the host's anonymous memory on the top tier (memory.numa_stat anon of the root). */
function anonTopShare(r: ExperimentResult): number {
  const root = r.summary.cgroups.find((c) => c.path === '/');
  const anon = root?.numa_stat.anon ?? {};
  const top = new Set(r.summary.nodes.filter((n) => n.toptier).map((n) => `N${n.id}`));
  let all = 0;
  let fast = 0;
  for (const [node, bytes] of Object.entries(anon)) {
    all += bytes;
    if (top.has(node)) fast += bytes;
  }
  return all > 0 ? fast / all : 0;
}

export const publishedTpp: Experiment = {
  name: 'published-tpp',
  ideas: ['S19', 'S21'],
  question:
    "TPP's cache-application case at 1:4 DRAM:CXL: does default Linux keep as little anon in DRAM and lose as much (14 %, −18 %), and does TPP recover it (80 %, −5 %)?",
  setup:
    "One DRAM node and one CPU-less CXL node (190 ns, 24 GB/s) at 1:4 (128 MiB : 512 MiB; full scale), against all memory in one DRAM node. One cache-like VM of 512 MiB: the first quarter anonymous, the rest a file in the page cache. It first fills its cache in random order (a uniform pass, so first-touch placement knows nothing of hotness), then serves zipfian θ 0.99 requests with the hottest pages in the anonymous part (TPP's finding that anon is hotter than file; scatter off, rank 1 at page 0). compute_ns 200 between misses: memory stalls about a third of the all-DRAM time — an assumption, the application is not public. default Linux: no demotion, no promotion (the 5.15 defaults). TPP: demotion on and the active-LRU promotion filter (TPP's rule) under numa_balancing 2, time-scaled periods. Throughput over the serving phase.",
  variants(scale) {
    const quick = scale === 'quick';
    const unit = quick ? 64 : 128;
    const pages = unit * 4 * 256;
    const v = (
      label: string,
      topology: Record<string, unknown>,
      kernel: Record<string, unknown>,
      tiering = {},
    ) => ({
      label,
      scenario: {
        name: `tpp-${label}`,
        // The cold fill reads the file from disk (50 µs a page): about 5 s at full scale.
        duration_ms: quick ? 4000 : 12000,
        sample_interval_ms: 50,
        topology,
        kernel: { ...SMALL_NODE_KERNEL, swap: '2GiB', ...TIME_SCALED_NUMA_BALANCING, ...kernel },
        tiering,
        measure: { warmup_accesses: 3 * pages },
        vms: [
          {
            name: 'cache',
            file_backed: `${unit * 3}MiB`,
            workload: {
              footprint: `${unit * 4}MiB`,
              pattern: 'phases',
              write_ratio: 0.1,
              compute_ns: 200,
              phases: [
                { name: 'fill', accesses: 3 * pages, pattern: 'uniform' },
                { name: 'serve', accesses: 1e12, pattern: 'zipfian', theta: 0.99, scatter: false },
              ],
            },
          },
        ],
      },
    });
    const tiered = {
      nodes: [dramNode(0, `${unit}MiB`, [0, 1, 2, 3]), cxlNode(1, `${unit * 4}MiB`)],
      distance: [
        [10, 20],
        [20, 10],
      ],
    };
    const allTop = { nodes: [dramNode(0, `${unit * 6}MiB`, [0, 1, 2, 3])], distance: [[10]] };
    return [
      v('all top tier', allTop, {}),
      v('default Linux', tiered, { demotion_enabled: false, numa_balancing: 0 }),
      v('TPP', tiered, { demotion_enabled: true, numa_balancing: 2 }, { promotion_filter: 'active-lru' }),
    ];
  },
  columns: [
    { header: 'acc/ms', value: (r) => Math.round(measuredRate(r)) },
    { header: 'anon in DRAM', value: (r) => fmt(anonTopShare(r)) },
    { header: 'fast hit', value: (r) => fmt(vm(r).measured?.fast_tier_hit_ratio ?? 0) },
    { header: 'promoted', value: (r) => vm(r).promoted_pages },
    { header: 'demoted', value: (r) => vm(r).demoted_pages },
  ],
  conclusions(results) {
    const top = byLabel(results, 'all top tier');
    const def = byLabel(results, 'default Linux');
    const tpp = byLabel(results, 'TPP');
    return [
      {
        claim: 'TPP brings more of the anonymous memory to DRAM than default Linux',
        holds: anonTopShare(tpp) > anonTopShare(def),
        detail: `${fmt(anonTopShare(tpp))} vs ${fmt(anonTopShare(def))}`,
        kind: 'prediction',
      },
      {
        claim: 'default Linux never moves a page between the tiers',
        holds: vm(def).promoted_pages + vm(def).demoted_pages === 0,
        detail: `${vm(def).promoted_pages} promoted, ${vm(def).demoted_pages} demoted`,
        kind: 'prediction',
      },
      {
        claim: `default Linux keeps 14 % of anon in DRAM`,
        holds: anonTopShare(def) >= 0.07 && anonTopShare(def) <= 0.28,
        detail: `simulated ${pct(anonTopShare(def))} vs published 14 % (band 7..28 %; ${SOURCE})`,
        kind: 'report',
      },
      publishedReport(
        'and loses 18 % of the all-top-tier throughput',
        rel(measuredRate(top), measuredRate(def)),
        -0.18,
        SOURCE,
      ),
      {
        claim: `TPP brings 80 % of anon to DRAM`,
        holds: anonTopShare(tpp) >= 0.4,
        detail: `simulated ${pct(anonTopShare(tpp))} vs published 80 % (band 40..100 %; ${SOURCE})`,
        kind: 'report',
      },
      publishedReport('and loses only 5 %', rel(measuredRate(top), measuredRate(tpp)), -0.05, SOURCE),
    ];
  },
};
