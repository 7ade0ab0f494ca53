import { SMALL_NODE_KERNEL, TIME_SCALED_NUMA_BALANCING, twoTierTopology } from '../hosts.js';
import type { Experiment, ExperimentResult, ExperimentScale } from '../types.js';
import { byLabel, fmt, vm } from './util.js';

/**
 * Can the kernel's own memory.low keep a tenant's memory fast beside a noisy neighbour, where
 * a per-VM fast ratio (S2) is not available upstream? memory.low protects a group's memory
 * from reclaim, and on a tiered host reclaim on DRAM is demotion. But it protects usage, not
 * a tier: pages placed in slow memory at fault time stay there unless something promotes
 * them. And it only holds as far as the ancestors grant it (docs/cgroups.md).
 */
const VARIANTS = [
  { label: 'none', protect: 'none', promotion: false },
  { label: 'memory.low, tenant only', protect: 'tenant', promotion: false },
  { label: 'memory.low', protect: 'tree', promotion: false },
  { label: 'promotion', protect: 'none', promotion: true },
  { label: 'promotion+memory.low', protect: 'tree', promotion: true },
] as const;

const TENANT = 0;
const NOISY = 1;

function tenantStat(r: ExperimentResult, key: string): number {
  const c = r.summary.cgroups.find((g) => g.path === '/vms/tenant');
  return c?.memory_stat[key] ?? 0;
}

const demoted = (r: ExperimentResult): number =>
  tenantStat(r, 'pgdemote_kswapd') + tenantStat(r, 'pgdemote_direct');

export const memoryLow: Experiment = {
  name: 'memory-low',
  ideas: ['S2', 'S7', 'S8'],
  question:
    "Does memory.low keep a tenant's memory in DRAM while a noisy neighbour drives reclaim, with and without NUMA-balancing promotion?",
  setup:
    "One DRAM node and one CPU-less PMEM node. A tenant with a skewed working set smaller than DRAM, and a neighbour whose uniform footprint exceeds DRAM and PMEM together, so that reclaim (demotion from DRAM, swap from PMEM) never stops. memory.low equal to the tenant's footprint is set on its group alone, or on its group and the parent (/vms), or not at all; NUMA-balancing tiering promotion is off or on.",
  variants(scale: ExperimentScale) {
    const quick = scale === 'quick';
    const tenantSize = quick ? '40MiB' : '160MiB';
    return VARIANTS.map((v) => ({
      label: v.label,
      scenario: {
        name: `memory-low-${v.label.replace(/[^a-z]+/g, '-')}`,
        duration_ms: quick ? 1500 : 4000,
        sample_interval_ms: 50,
        topology: twoTierTopology(quick ? '64MiB' : '256MiB', quick ? '256MiB' : '1GiB'),
        kernel: {
          ...SMALL_NODE_KERNEL,
          demotion_enabled: true,
          swap: quick ? '1GiB' : '4GiB',
          ...(v.promotion ? { numa_balancing: 2, ...TIME_SCALED_NUMA_BALANCING } : {}),
        },
        cgroups: [
          { path: '/vms', ...(v.protect === 'tree' ? { 'memory.low': tenantSize } : {}) },
          { path: '/vms/tenant', ...(v.protect !== 'none' ? { 'memory.low': tenantSize } : {}) },
          { path: '/vms/noisy' },
        ],
        vms: [
          {
            name: 'tenant',
            cgroup: '/vms/tenant',
            workload: {
              footprint: tenantSize,
              pattern: 'zipfian',
              theta: 0.8,
              write_ratio: 0.2,
              compute_ns: 50,
            },
          },
          {
            name: 'noisy',
            cgroup: '/vms/noisy',
            workload: {
              footprint: quick ? '400MiB' : '1600MiB',
              pattern: 'uniform',
              write_ratio: 0.2,
              compute_ns: 50,
            },
          },
        ],
      },
    }));
  },
  columns: [
    { header: 'tenant demoted', value: (r) => demoted(r) },
    { header: 'tenant promoted', value: (r) => tenantStat(r, 'pgpromote_success') },
    { header: 'tenant on PMEM', value: (r) => vm(r, TENANT).pages_by_node['1'] ?? 0 },
    { header: 'tenant fast hit', value: (r) => fmt(vm(r, TENANT).fast_tier_hit_ratio) },
    { header: 'tenant slowdown', value: (r) => fmt(vm(r, TENANT).slowdown) },
    { header: 'noisy slowdown', value: (r) => fmt(vm(r, NOISY).slowdown) },
  ],
  conclusions(results) {
    const none = byLabel(results, 'none');
    const alone = byLabel(results, 'memory.low, tenant only');
    const low = byLabel(results, 'memory.low');
    const promo = byLabel(results, 'promotion');
    const promoLow = byLabel(results, 'promotion+memory.low');
    return [
      {
        claim: "memory.low (granted down the tree) stops reclaim from demoting the tenant's pages",
        holds: demoted(low) === 0 && demoted(none) > 0,
        detail: `${demoted(none)} pages demoted without it, ${demoted(low)} with it`,
        kind: 'prediction',
      },
      {
        claim: 'and raises its fast-tier hit ratio over no protection',
        holds: vm(low, TENANT).fast_tier_hit_ratio > vm(none, TENANT).fast_tier_hit_ratio,
        detail: `${fmt(vm(low, TENANT).fast_tier_hit_ratio)} vs ${fmt(vm(none, TENANT).fast_tier_hit_ratio)}`,
        kind: 'prediction',
      },
      {
        claim: "memory.low on the tenant's group alone protects nothing: its parent grants none",
        holds: demoted(alone) === demoted(none),
        // Without demotion in the unprotected run there is nothing to protect from.
        applicable: demoted(none) > 0,
        detail: `${demoted(alone)} pages demoted, as without it (${demoted(none)})`,
        kind: 'prediction',
      },
      {
        claim:
          'memory.low is tier-blind: without promotion, pages that landed on PMEM at fault time stay there',
        holds: (vm(low, TENANT).pages_by_node['1'] ?? 0) > 0,
        detail: `${vm(low, TENANT).pages_by_node['1'] ?? 0} of the tenant's pages on PMEM`,
        kind: 'prediction',
      },
      {
        claim:
          'with promotion, memory.low saves promoting pages again after their demotion, and the tenant runs faster',
        applicable:
          tenantStat(promoLow, 'pgpromote_success') > 0 || tenantStat(promo, 'pgpromote_success') > 0,
        holds:
          tenantStat(promoLow, 'pgpromote_success') < tenantStat(promo, 'pgpromote_success') &&
          vm(promoLow, TENANT).slowdown < vm(promo, TENANT).slowdown,
        detail: `${tenantStat(promoLow, 'pgpromote_success')} vs ${tenantStat(promo, 'pgpromote_success')} promotions, slowdown ${fmt(vm(promoLow, TENANT).slowdown)} vs ${fmt(vm(promo, TENANT).slowdown)}`,
        kind: 'observation',
      },
    ];
  },
};
