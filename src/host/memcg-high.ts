import type { CgroupTree } from './cgroups.js';

/**
 * memory.high throttling, after mem_cgroup_handle_over_high() and calculate_high_delay() in
 * mm/memcontrol.c. A task that charged pages while its group (or an ancestor) was over
 * memory.high reclaims on its way back to user space; while reclaim cannot bring the groups
 * close enough to their memory.high, it is put to sleep, longer the further over they are.
 */

/** Pages the kernel charges at once (the per-CPU stock); over-high handling comes per batch. */
export const MEMCG_CHARGE_BATCH = 64;
const MEMCG_DELAY_PRECISION_SHIFT = 20;
const MEMCG_DELAY_SCALING_SHIFT = 14;
/** CONFIG_HZ: the kernel's Kconfig default (HZ_250). Penalties are whole jiffies. */
export const HZ = 250;
/** The longest sleep per return to user space. */
export const MEMCG_MAX_HIGH_DELAY_JIFFIES = 2 * HZ;
/** No sleep at or below this (10 ms): small overages are left to reclaim. */
export const MEMCG_MIN_HIGH_DELAY_JIFFIES = Math.floor(HZ / 100);

/** calculate_overage(): how far `usage` is over `high`, as a fraction of high in 2^-20 units. */
export function calculateOverage(usage: number, high: number): number {
  if (usage <= high) return 0;
  const h = Math.max(high, 1); // as if the threshold were one page, to avoid a division by 0
  return Math.floor(((usage - high) * 2 ** MEMCG_DELAY_PRECISION_SHIFT) / h);
}

/** mem_find_max_overage(): the largest overage of `memcg` and its ancestors below the root. */
export function maxOverage(cg: CgroupTree, memcg: number): number {
  let max = 0;
  for (let c = memcg; c > 0; c = cg.parent[c]) {
    max = Math.max(max, calculateOverage(cg.usage[c], cg.memoryHigh[c]));
  }
  return max;
}

/**
 * calculate_high_delay() without the clamp: overage² · HZ >> 34 jiffies for a nominal batch,
 * scaled by the pages the task charged over high (so four N-page charges weigh as one 4N).
 * Doubles are exact here up to an overage of several times memory.high; past that the result
 * is clamped anyway.
 */
export function highDelayJiffies(overage: number, nrPages: number): number {
  if (overage === 0) return 0;
  const base = Math.floor(
    (overage * overage * HZ) / 2 ** (MEMCG_DELAY_PRECISION_SHIFT + MEMCG_DELAY_SCALING_SHIFT),
  );
  return Math.floor((base * nrPages) / MEMCG_CHARGE_BATCH);
}
