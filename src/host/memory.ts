import type { AddressSpace } from './address-space.js';
import { LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, PF_FILE, lruOfFlags } from './frames.js';
import type { Host } from './host.js';
import { KW } from './kernel-work.js';
import { chargePages, handleOverHigh } from './memcontrol.js';
import { DEFAULT_CPUPID_LAYOUT } from './numa-balancing/cpupid.js';
import { allocUserFrame } from './page-alloc.js';
import { PTE_DIRTY, PTE_FILE_SHADOW, PTE_NONE, PTE_SWAP, PTE_YOUNG } from './pte.js';
import { freeSwapSlot } from './swap.js';
import { VM } from './vmstat.js';

/**
 * The fault path and the unmapping of user pages, after mm/memory.c: handle_mm_fault() for a
 * missing page (a first touch, a swap-in or a page-cache read), and the zap that frees a page.
 */

/**
 * mm_account_fault()'s PGFAULT: handle_mm_fault() ends with it for every fault that is not
 * retried, failed ones included, whatever the fault was (a missing page, a swap-in, or a NUMA
 * hint fault through do_numa_page()). PGFAULT is a per-CPU event, so it goes on the task's
 * CPU node; the memcg is the mm's (count_memcg_event_mm).
 */
export function mmAccountFault(host: Host, as: AddressSpace): void {
  host.vmstat.add(as.memcg, as.cpuNode, VM.pgfault, 1);
}

/**
 * Handles a fault on a non-present page of `as` at `vpn`: charges, allocates, installs, and
 * returns the cost in ns paid by the task. If the task is OOM-killed meanwhile, returns -1.
 */
export function handleFault(host: Host, as: AddressSpace, vpn: number, isWrite: boolean): number {
  const g = as.base + vpn;
  const pte = host.pt[g];
  const isFile = vpn >= as.anonPages;
  const memcg = as.memcg;
  let cost: number;
  let kind: number;
  const statNode = as.cpuNode;
  const vm = host.vmstat;
  mmAccountFault(host, as);
  if (pte === PTE_SWAP) {
    cost = host.costs.swapInNs;
    kind = KW.swap_in;
    vm.add(memcg, statNode, VM.pgmajfault, 1);
    vm.add(memcg, statNode, VM.pswpin, 1);
    vm.add(memcg, statNode, VM.workingset_refault_anon, 1);
  } else if (isFile) {
    cost = host.costs.fileReadNs;
    kind = KW.file_read;
    vm.add(memcg, statNode, VM.pgmajfault, 1);
    if (pte === PTE_FILE_SHADOW) vm.add(memcg, statNode, VM.workingset_refault_file, 1);
  } else {
    cost = host.costs.minorFaultNs;
    kind = KW.page_faults;
  }
  const chargeCost = chargePages(host, as, memcg, 1);
  if (chargeCost < 0) return -1;
  const ilx = vpn; // private mapping: the interleave index is the virtual page number
  const allocCost = host.costAcc.fault;
  allocCost[0] = 0;
  const pfn = allocUserFrame(host, as, ilx, allocCost);
  if (pfn < 0) {
    host.cgroups.uncharge(memcg, 1);
    return -1;
  }
  if (pte === PTE_SWAP) freeSwapSlot(host, memcg);
  installPage(host, as, g, pfn, isFile, isWrite);
  if (pte === PTE_NONE) as.touchedPages++;
  const sleptBefore = as.highThrottleNs;
  const high = handleOverHigh(host, as, memcg);
  const slept = as.highThrottleNs - sleptBefore;
  // Attributed only when the fault succeeds: a failed one (OOM) is not charged to the task.
  const by = as.kernelNsBy;
  by[kind] += cost;
  by[KW.reclaim] += chargeCost + allocCost[0] + (high - slept);
  by[KW.memory_high_throttle] += slept;
  return cost + chargeCost + allocCost[0] + high;
}

function installPage(
  host: Host,
  as: AddressSpace,
  g: number,
  pfn: number,
  isFile: boolean,
  isWrite: boolean,
): void {
  const fr = host.frames;
  const node = fr.nodeOf(pfn);
  // New pages start on the inactive list (workingset protection, 5.9+); the access that
  // faulted them in sets the PTE's accessed bit (and dirty bit on a write).
  fr.setFlags(pfn, isFile ? PF_FILE : 0);
  fr.setRmap(pfn, g);
  // A freed page's last_cpupid is reset (free_pages_prepare → page_cpupid_reset_last()).
  fr.setStamp(pfn, DEFAULT_CPUPID_LAYOUT.CPUPID_UNSET);
  fr.addHead(fr.listId(as.memcg, node, isFile ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON), pfn);
  host.pt[g] = pfn | PTE_YOUNG | (isWrite ? PTE_DIRTY : 0);
  as.rssByNode[node]++;
  host.cgroups.nodePages[as.memcg * host.nodes + node]++;
}

/** Unmaps and frees a user page; `pte` is what the page-table entry becomes. */
export function freeUserPage(host: Host, p: number, pte: number): void {
  const fr = host.frames;
  const g = fr.rmapOf(p);
  const as = host.spaceOf(g);
  const node = fr.nodeOf(p);
  fr.remove(fr.listId(as.memcg, node, lruOfFlags(fr.flagsOf(p))), p);
  host.pt[g] = pte;
  host.ledger.evicted(g);
  as.rssByNode[node]--;
  host.cgroups.nodePages[as.memcg * host.nodes + node]--;
  host.cgroups.uncharge(as.memcg, 1);
  host.vmstat.add(as.memcg, node, VM.pgfree, 1);
  fr.putFree(p);
}
