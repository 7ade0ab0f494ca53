import type { AddressSpace } from './address-space.js';
import type { Host } from './host.js';
import {
  HZ,
  MEMCG_CHARGE_BATCH,
  MEMCG_MAX_HIGH_DELAY_JIFFIES,
  MEMCG_MIN_HIGH_DELAY_JIFFIES,
  highDelayJiffies,
  maxOverage,
} from './memcg-high.js';
import { MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX } from './mm-constants.js';
import { oomKill } from './oom.js';
import { memcgReclaim } from './reclaim.js';

/**
 * Memory-cgroup charging after mm/memcontrol.c: try_charge() against memory.max (reclaim, then
 * the memcg OOM killer) and the memory.high handling on the way back to user space. The
 * counters themselves (page_counter) are in cgroups.ts, the memory.high penalty in memcg-high.ts.
 */

/**
 * try_charge(): charge `nr` pages, reclaiming the over-limit group's subtree as needed (up to
 * MAX_RECLAIM_RETRIES attempts without progress), then OOM-killing inside it, and starting
 * over after each kill that spared `as`. Returns the cost in ns, or -1 if `as`
 * itself was killed.
 */
export function chargePages(host: Host, as: AddressSpace, memcg: number, nr: number): number {
  const cg = host.cgroups;
  const acc = host.costAcc.charge;
  let cost = 0;
  for (let retries = 0; ;) {
    const over = cg.tryCharge(memcg, nr);
    if (over < 0) return cost;
    cg.event(over, 'max');
    acc[0] = 0;
    const reclaimed = memcgReclaim(host, over, Math.max(nr, SWAP_CLUSTER_MAX), as.cpuNode, acc);
    cost += acc[0];
    if (reclaimed > 0) {
      retries = 0;
      continue;
    }
    if (++retries < MAX_RECLAIM_RETRIES) continue;
    cg.event(over, 'oom');
    const victim = oomKill(host, as, over, 'memcg');
    if (victim === as || !as.alive) return -1;
    if (victim === null) return -1;
    // The OOM killer made progress: a fresh round of reclaim attempts before the next kill
    // (try_charge_memcg(): nr_retries = MAX_RECLAIM_RETRIES after mem_cgroup_oom()).
    retries = 0;
  }
}

/**
 * memory.high, after a fault's charge. try_charge() marks the task when the charge leaves
 * its group or an ancestor over memory.high. The kernel charges MEMCG_CHARGE_BATCH pages
 * at a time, so the handling on the way back to user space (mem_cgroup_handle_over_high)
 * comes once per batch of pages charged over high. It reclaims (reclaim_high), and keeps
 * reclaiming while that makes progress and the groups are still far enough over to owe a
 * sleep; if reclaim stops making progress (MAX_RECLAIM_RETRIES tries), the task sleeps for the
 * penalty (memcg-high.ts). Returns the cost in ns, reclaim and sleep together.
 */
export function handleOverHigh(host: Host, as: AddressSpace, memcg: number): number {
  const cg = host.cgroups;
  if (cg.overHigh(memcg) < 0) return 0;
  if (++as.pagesOverHigh < MEMCG_CHARGE_BATCH) return 0;
  const nrPages = as.pagesOverHigh;
  as.pagesOverHigh = 0;
  const acc = host.costAcc.high;
  let cost = 0;
  let retries = MAX_RECLAIM_RETRIES;
  let inRetry = false;
  for (;;) {
    // reclaim_high(): every group from the task's up to the root's child that is over.
    let reclaimed = 0;
    for (let c = memcg; c > 0; c = cg.parent[c]) {
      if (cg.usage[c] <= cg.memoryHigh[c]) continue;
      cg.event(c, 'high');
      acc[0] = 0;
      reclaimed += memcgReclaim(host, c, inRetry ? SWAP_CLUSTER_MAX : nrPages, as.cpuNode, acc);
      cost += acc[0];
    }
    const penalty = Math.min(highDelayJiffies(maxOverage(cg, memcg), nrPages), MEMCG_MAX_HIGH_DELAY_JIFFIES);
    if (penalty <= MEMCG_MIN_HIGH_DELAY_JIFFIES) return cost;
    // Reclaim that makes progress is preferred to throttling.
    if (reclaimed > 0 || retries-- > 0) {
      inRetry = true;
      continue;
    }
    const sleepNs = (penalty * 1e9) / HZ;
    as.highThrottleNs += sleepNs;
    return cost + sleepNs;
  }
}
