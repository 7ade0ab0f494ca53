import { SMALL_NODE_KERNEL, TIME_SCALED_NUMA_BALANCING, dramNode, twoTierTopology } from '../hosts.js';
import type { Experiment, ExperimentResult } from '../types.js';
import { byLabel, fmt, measuredRate, pct, rel, vm } from './util.js';

const SOURCE =
  'Duraisamy et al., "Towards an Adaptable Systems Architecture for Memory Tiering at Warehouse-Scale" (TMTS), ASPLOS 2023';

/** Share of the VM's resident pages on slow-tier nodes. */
function slowResidency(r: ExperimentResult): number {
  const v = vm(r);
  const top = new Set(r.summary.nodes.filter((n) => n.toptier).map((n) => String(n.id)));
  let all = 0;
  let slow = 0;
  for (const [node, p] of Object.entries(v.pages_by_node)) {
    all += p;
    if (!top.has(node)) slow += p;
  }
  return all > 0 ? slow / all : 0;
}

export const publishedTmts: Experiment = {
  name: 'published-tmts',
  ideas: ['S3', 'S19'],
  question: "TMTS: can a quarter of a typical service's memory live in the slow tier for less than 5 % loss?",
  setup:
    "One DRAM node holding 75 % of the VM's footprint and a CPU-less Optane node (TMTS calls it \"a much slower medium\"), against all-DRAM. One service-like VM: zipfian θ 0.99 (YCSB's skew) over 512 MiB (full scale), 20 % writes, compute_ns 200 between misses (memory stalls about a third of the all-DRAM time; an assumption). The kernel's tiering: demotion on, numa_balancing 2 with the hot threshold, time-scaled periods. Loss is throughput after the first pass over the footprint.",
  variants(scale) {
    const quick = scale === 'quick';
    const fp = quick ? 128 : 512;
    const v = (label: string, topology: Record<string, unknown>, kernel: Record<string, unknown>) => ({
      label,
      scenario: {
        name: `tmts-${label}`,
        duration_ms: quick ? 2500 : 6000,
        sample_interval_ms: 50,
        topology,
        kernel: { ...SMALL_NODE_KERNEL, swap: '2GiB', ...TIME_SCALED_NUMA_BALANCING, ...kernel },
        measure: { warmup_accesses: fp * 256 * 4 },
        vms: [
          {
            name: 'service',
            workload: {
              footprint: `${fp}MiB`,
              pattern: 'zipfian',
              theta: 0.99,
              write_ratio: 0.2,
              compute_ns: 200,
            },
          },
        ],
      },
    });
    return [
      v('all DRAM', { nodes: [dramNode(0, `${fp * 2}MiB`, [0, 1, 2, 3])], distance: [[10]] }, {}),
      v('25 % slow', twoTierTopology(`${(fp * 3) / 4}MiB`, `${fp}MiB`), {
        demotion_enabled: true,
        numa_balancing: 2,
      }),
    ];
  },
  columns: [
    { header: 'acc/ms', value: (r) => Math.round(measuredRate(r)) },
    { header: 'slow resident', value: (r) => fmt(slowResidency(r)) },
    { header: 'slow accesses', value: (r) => fmt(1 - (vm(r).measured?.fast_tier_hit_ratio ?? 1), 4) },
    { header: 'promoted', value: (r) => vm(r).promoted_pages },
    { header: 'demoted', value: (r) => vm(r).demoted_pages },
  ],
  conclusions(results) {
    const dram = byLabel(results, 'all DRAM');
    const tier = byLabel(results, '25 % slow');
    const loss = -rel(measuredRate(dram), measuredRate(tier));
    return [
      {
        claim: 'at least a quarter of the memory is on the slow tier',
        holds: slowResidency(tier) >= 0.24,
        detail: fmt(slowResidency(tier)),
        kind: 'prediction',
      },
      {
        claim: 'the loss is below 5 %',
        holds: loss >= 0 && loss < 0.1,
        detail: `simulated ${pct(loss)} loss vs published < 5 % (band 0..10 %; ${SOURCE})`,
        kind: 'report',
      },
    ];
  },
};
