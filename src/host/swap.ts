import type { Host } from './host.js';
import { freeUserPage } from './memory.js';
import { PTE_SWAP } from './pte.js';

/**
 * Swap slots (mm/swapfile.c, mm/swap_state.c): one global pool of `host.swapPages` slots,
 * charged to the page's memcg as memory.swap.current.
 */

/**
 * can_reclaim_anon_pages()'s swap half: is there a free swap slot, and room under the
 * memory.swap.max of `memcg` and its ancestors?
 */
export function canSwap(host: Host, memcg: number): boolean {
  return host.swapUsed < host.swapPages && host.cgroups.swapRoom(memcg) > 0;
}

/**
 * add_to_swap() for anon page `p`: takes a swap slot, charges it to the page's memcg
 * (mem_cgroup_try_charge_swap) and unmaps the page. Returns false, changing nothing, when
 * there is no free slot or the charge would break a memory.swap.max.
 */
export function swapOut(host: Host, p: number): boolean {
  const memcg = host.memcgOfPage(p);
  if (!canSwap(host, memcg)) return false;
  freeUserPage(host, p, PTE_SWAP);
  host.swapUsed++;
  host.cgroups.chargeSwap(memcg);
  return true;
}

/** A swap slot of `memcg` is freed (swap-in, or its mapping went away). */
export function freeSwapSlot(host: Host, memcg: number): void {
  host.swapUsed--;
  host.cgroups.unchargeSwap(memcg);
}
