import type { AddressSpace } from './address-space.js';
import type { Host } from './host.js';
import { freeUserPage } from './memory.js';
import { PTE_NONE, PTE_PFN_MASK, PTE_SWAP } from './pte.js';
import { freeSwapSlot } from './swap.js';
import { VM } from './vmstat.js';

/** The OOM killer (mm/oom_kill.c) and the end of an address space (exit_mmap). */

/**
 * The OOM killer: kills the address space with the largest RSS within `scope` (a memcg
 * subtree, or everything for a global OOM), frees its memory, and reports it.
 */
export function oomKill(
  host: Host,
  faulting: AddressSpace,
  scope: number,
  reason: 'memcg' | 'global',
): AddressSpace | null {
  let victim: AddressSpace | null = null;
  let best = -1;
  for (const as of host.spaces) {
    if (!as.alive || !host.cgroups.isDescendant(as.memcg, scope)) continue;
    const rss = as.rss();
    if (rss > best) {
      best = rss;
      victim = as;
    }
  }
  if (victim === null) {
    faulting.alive = false;
    faulting.killedAtNs = host.now;
    return null;
  }
  killSpace(host, victim);
  host.vmstat.add(victim.memcg, victim.cpuNode, VM.oom_kill, 1);
  host.cgroups.event(victim.memcg, 'oom_kill');
  host.events.oomKill(victim, scope, reason);
  return victim;
}

/** exit_mmap(): the address space ends (its task exits or is killed); its memory is freed. */
export function killSpace(host: Host, as: AddressSpace): void {
  as.alive = false;
  as.killedAtNs = host.now;
  for (let g = as.base; g < as.base + as.pages; g++) {
    const pte = host.pt[g];
    if (pte >= 0) freeUserPage(host, pte & PTE_PFN_MASK, PTE_NONE);
    else if (pte === PTE_SWAP) {
      freeSwapSlot(host, as.memcg);
      host.pt[g] = PTE_NONE;
    }
  }
}
