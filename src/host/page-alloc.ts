import type { AddressSpace } from './address-space.js';
import type { Host } from './host.js';
import { MAX_RECLAIM_RETRIES } from './mm-constants.js';
import { oomKill } from './oom.js';
import { directReclaim } from './reclaim.js';
import { VM, zoneItem } from './vmstat.js';

/**
 * The page allocator for user pages, after mm/page_alloc.c: the fast path at LOW, the slow
 * path (wake kswapd, retry at MIN), direct reclaim with retries, then the OOM killer.
 */

/**
 * The page allocator for a user page: the placement's candidates with the fast path at LOW,
 * the slow path (wake kswapd, retry at MIN), then direct reclaim with retries, then OOM.
 * Returns the pfn, or -1; the reclaim work done, in ns, is added to `cost[0]`.
 */
export function allocUserFrame(host: Host, as: AddressSpace, ilx: number, cost: Float64Array): number {
  // A placement hook may do work of its own for this allocation (a tenant hint making room)
  // and add its cost to host.lastAllocCost.
  host.lastAllocCost = 0;
  const c = as.placement.candidates(ilx);
  cost[0] += host.lastAllocCost;
  let p = allocFrom(host, c.primary, as, !c.primaryNoDirectReclaim, c.interleaveNid, cost);
  if (p >= 0 || !as.alive) return p;
  if (c.secondary !== null) p = allocFrom(host, c.secondary, as, true, c.interleaveNid, cost);
  if (p >= 0 || !as.alive) return p;
  oomKill(host, as, 0, 'global');
  return -1;
}

/**
 * get_page_from_freelist() twice, as the allocator's fast and slow paths do without reclaim:
 * the first node above LOW; else wake kswapd on every node of the list (wake_all_kswapds)
 * and take the first above MIN. Returns the node, or -1.
 */
export function pickNode(host: Host, nodes: ArrayLike<number>, memcg: number, demotedPage = -1): number {
  const free = host.frames.freeCount;
  const allow = demotedPage >= 0 ? host.demotion.allowPage : undefined;
  const hasLeft = host.hasLeft;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (allow !== undefined && !allow(demotedPage, n, hasLeft)) continue;
    if (free[n] > host.wmarkLow[n] && host.nodeAllowed(memcg, n)) return n;
  }
  for (let i = 0; i < nodes.length; i++) host.kswapd.wake(nodes[i]);
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (allow !== undefined && !allow(demotedPage, n, hasLeft)) continue;
    if (free[n] > host.wmarkMin[n] && host.nodeAllowed(memcg, n)) return n;
  }
  return -1;
}

function allocFrom(
  host: Host,
  nodes: Int32Array,
  as: AddressSpace,
  mayReclaim: boolean,
  ilNid: number,
  cost: Float64Array,
): number {
  const memcg = as.memcg;
  const preferred = nodes.length > 0 ? nodes[0] : -1;
  let n = pickNode(host, nodes, memcg);
  if (n >= 0) return takeFrame(host, n, preferred, as, ilNid);
  if (!mayReclaim) return -1;
  // Direct reclaim, then retry at MIN, up to MAX_RECLAIM_RETRIES without progress.
  const free = host.frames.freeCount;
  let noProgress = 0;
  while (noProgress < MAX_RECLAIM_RETRIES) {
    // do_try_to_free_pages() counts ALLOCSTALL in zone sc->reclaim_idx = gfp_zone(gfp). A user
    // page is GFP_HIGHUSER_MOVABLE, whose gfp_zone() is ZONE_MOVABLE whatever zones the
    // nodes have: allocstall_movable.
    host.vmstat.add(memcg, as.cpuNode, VM.allocstall_movable, 1);
    const r = directReclaim(host, nodes, -1, cost);
    for (let i = 0; i < nodes.length; i++) {
      n = nodes[i];
      if (free[n] > host.wmarkMin[n] && host.nodeAllowed(memcg, n))
        return takeFrame(host, n, preferred, as, ilNid);
    }
    if (r === 0) noProgress++;
  }
  return -1;
}

/**
 * Takes a frame of node `n` for a user page and counts what the kernel counts for it:
 * rmqueue()'s __count_zid_vm_events(PGALLOC, page_zonenum(page)) on the page's zone, and
 * zone_statistics(): hit/miss against the preferred node, local/other against the CPU's
 * node. `ilNid` is the node an interleave policy chose (NUMA_NO_NODE = -1 otherwise):
 * alloc_pages_mpol() counts NUMA_INTERLEAVE_HIT on the page's zone when the page landed there.
 */
function takeFrame(host: Host, n: number, preferred: number, as: AddressSpace, ilNid: number): number {
  const p = host.frames.takeFree(n);
  const v = host.vmstat;
  v.add(as.memcg, n, zoneItem(VM.pgalloc_normal, host.zoneMovable[n] !== 0), 1);
  if (n === preferred) v.add(as.memcg, n, VM.numa_hit, 1);
  else {
    v.add(as.memcg, n, VM.numa_miss, 1);
    if (preferred >= 0) v.add(as.memcg, preferred, VM.numa_foreign, 1);
  }
  v.add(as.memcg, n, n === as.cpuNode ? VM.numa_local : VM.numa_other, 1);
  if (n === ilNid) v.add(as.memcg, n, VM.numa_interleave, 1);
  return p;
}
