import {
  LRU_ACTIVE_ANON,
  LRU_ACTIVE_FILE,
  LRU_INACTIVE_ANON,
  LRU_INACTIVE_FILE,
  PF_ACTIVE,
  PF_FILE,
  PF_REFERENCED,
} from './frames.js';
import type { Host } from './host.js';
import {
  PTE_DIRTY,
  PTE_FILE_SHADOW,
  PTE_YOUNG,
  RECLAIM_DIRECT,
  RECLAIM_KSWAPD,
  RECLAIM_PROACTIVE,
} from './pte.js';
import { VM } from './vmstat.js';
import { MR } from './migration-ledger.js';
import { DEF_PRIORITY, MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX } from './mm-constants.js';

export { DEF_PRIORITY, MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX } from './mm-constants.js';
export { kswapdStep } from './kswapd.js';

/**
 * Page reclaim after mm/vmscan.c (classic two-list LRU): get_scan_count proportions,
 * shrink_active_list deactivation when inactive_is_low, shrink_inactive_list with
 * folio_check_references' second chance, demotion before swap when demotion is enabled
 * (demote_folio_list), then swap-out / page-cache drop. The work done, in ns, is added up in
 * the request (the scan_control) for the caller to charge to whoever pays for it.
 */

const MAX_NODES = 256;

const SCAN_ORDER = [LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, LRU_INACTIVE_FILE, LRU_ACTIVE_FILE];

const PGSCAN = [VM.pgscan_kswapd, VM.pgscan_direct, VM.pgscan_proactive];
const PGSTEAL = [VM.pgsteal_kswapd, VM.pgsteal_direct, VM.pgsteal_proactive];
const PGDEMOTE = [VM.pgdemote_kswapd, VM.pgdemote_direct, VM.pgdemote_proactive];
const DEMOTE_REASON = [MR.demote_kswapd, MR.demote_direct, MR.demote_proactive];

/**
 * Reclaim's scratch space, one per host (so that hosts in one process share nothing): reclaim
 * does not re-enter itself, so one set serves every call.
 */
export class ReclaimScratch {
  readonly batch = new Int32Array(SWAP_CLUSTER_MAX);
  readonly targets = new Int32Array(MAX_NODES);
  readonly scanTargets = new Float64Array(4);
  readonly owners = new Int32Array(SWAP_CLUSTER_MAX);
  /** Keeps the loads of prefetchTail() live. */
  readonly prefetchSink = new Int32Array(1);
}

/**
 * Loads what reclaim will read for each of the next n pages of `list`'s tail: their PTEs (the
 * accessed bit) and, for an inactive list, whose pages may be demoted or evicted, their
 * migration-ledger entries. Walking the links is a chain of dependent cache misses; these
 * loads hang off it independently, so they overlap here instead of each adding a miss to the
 * chain when the pages are processed one by one.
 */
function prefetchTail(host: Host, list: number, n: number, inactive: boolean): void {
  const scratchOwners = host.reclaimScratch.owners;
  const count = host.frames.tailOwners(list, Math.min(n, SWAP_CLUSTER_MAX), scratchOwners);
  const pt = host.pt;
  let touch = 0;
  for (let k = 0; k < count; k++) touch |= pt[scratchOwners[k]];
  if (inactive) for (let k = 0; k < count; k++) touch |= host.ledger.historyWord(scratchOwners[k]);
  host.reclaimScratch.prefetchSink[0] ^= touch;
}

/** int_sqrt() as the kernel's: floor of the square root (exact for the sizes used here). */
export function intSqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/** The target inactive:active ratio of inactive_is_low() for an LRU type of `totalPages`. */
export function inactiveRatio(totalPages: number): number {
  const gb = Math.floor(totalPages / 262144); // >> (30 - PAGE_SHIFT)
  return gb > 0 ? intSqrt(10 * gb) : 1;
}

/** inactive_is_low(): inactive * ratio < active, for one lruvec and type. */
export function inactiveIsLow(inactive: number, active: number): boolean {
  return inactive * inactiveRatio(inactive + active) < active;
}

export interface ReclaimRequest {
  reclaimer: number;
  /** Limit reclaim to this memcg's subtree (memcg limit reclaim), or -1. */
  targetMemcg: number;
  /**
   * sc->memcg_low_reclaim: groups within their effective memory.low are reclaimed too. Only
   * the retry of direct and memcg reclaim sets it; kswapd never does.
   */
  memcgLowReclaim: boolean;
  /**
   * sc->memcg_low_skipped, set by reclaim: a group was passed over, or scanned less, because
   * of its memory.low. With nothing reclaimed, direct and memcg reclaim then retry.
   */
  memcgLowSkipped?: boolean;
  /** MADV_PAGEOUT / DAMON pageout set no_demotion; proactive reclaim does not retry failures. */
  noDemotion: boolean;
  /**
   * Demote or leave in place, never swap or drop (ratio rebalancing): pages that cannot be
   * demoted go back to the inactive list. Works whatever demotion_enabled says.
   */
  demoteOnly?: boolean;
  /** Ledger reason for the demotions, instead of the reclaimer's demote_* reason. */
  reason?: number;
  /** The work reclaim did for this request, in ns: every function adds to it. */
  costNs: number;
}

/**
 * shrink_node(): reclaims about `nrToReclaim` pages from `node` at `priority`, visiting the
 * memcgs in scope as shrink_node_memcgs() does. kswapd walks every group of the tree, each
 * lruvec working toward the whole goal. Direct, memcg and proactive reclaim walk partially:
 * each walk resumes after the group where the last walk for the same target and node
 * stopped (mem_cgroup_iter's per-node reclaim cursor), and stops once the goal is met, so
 * that successive small reclaims share the pressure over the groups instead of starting at
 * the first one every time. The goal is the whole request's (sc->nr_to_reclaim) and counts
 * what the request reclaimed before this node (`reclaimedBefore`, sc->nr_reclaimed), but the
 * first group of the walk is always shrunk. Returns pages reclaimed (demoted pages count, as in
 * the kernel).
 */
export function shrinkNode(
  host: Host,
  node: number,
  nrToReclaim: number,
  priority: number,
  req: ReclaimRequest,
  reclaimedBefore = 0,
): number {
  const cg = host.cgroups;
  const root = req.targetMemcg >= 0 ? req.targetMemcg : 0;
  const scope = cg.subtree(root);
  const partial = req.reclaimer !== RECLAIM_KSWAPD;
  const cursor = root * host.nodes + node;
  let reclaimed = 0;
  // Pre-order, so a parent's effective protection is computed before its children's.
  let i = partial ? cg.reclaimPosition[cursor] + 1 : 0;
  if (i >= scope.length) i = 0; // a walk that would start past the end sees the tree from its root
  for (; i < scope.length; i++) {
    const memcg = scope[i];
    if (partial) cg.reclaimPosition[cursor] = i;
    // An empty group has nothing to reclaim: it neither counts as skipped nor gets a low event.
    if (cg.usage[memcg] === 0) continue;
    cg.calculateProtection(root, memcg);
    // Rebalancing a tier ratio (demoteOnly) moves pages and frees nothing: memory.min and
    // memory.low, which protect a group's memory from reclaim, do not apply to it.
    if (req.demoteOnly !== true) {
      if (cg.belowMin(root, memcg)) continue; // hard protection: OOM before this is reclaimed
      if (cg.belowLow(root, memcg)) {
        if (!req.memcgLowReclaim) {
          req.memcgLowSkipped = true;
          continue;
        }
        cg.event(memcg, 'low');
      }
    }
    reclaimed += shrinkLruvec(host, memcg, node, nrToReclaim, priority, req, root);
    if (partial && reclaimedBefore + reclaimed >= nrToReclaim) break;
  }
  // A walk that reached the end of the tree starts the next one from its root.
  if (partial && i >= scope.length) cg.reclaimPosition[cursor] = -1;
  // Progress by anyone revives a kswapd that gave up on this node (shrink_node(): "a
  // successful direct reclaim run will revive a dormant kswapd").
  if (reclaimed > 0) host.kswapd.progress(node);
  return reclaimed;
}

function canDemote(host: Host, node: number, memcg: number, req: ReclaimRequest): boolean {
  if (req.noDemotion || !host.demotion.canDemote(node)) return false;
  if (!host.demotionAllowed(memcg, node)) return false;
  return host.demotionEnabled || req.demoteOnly === true;
}

function shrinkLruvec(
  host: Host,
  memcg: number,
  node: number,
  nrToReclaim: number,
  priority: number,
  req: ReclaimRequest,
  root: number,
): number {
  const fr = host.frames;
  const base = fr.listId(memcg, node, 0);
  const sizes = fr.lruSize;
  const anonTotal = sizes[base + LRU_INACTIVE_ANON] + sizes[base + LRU_ACTIVE_ANON];
  const fileTotal = sizes[base + LRU_INACTIVE_FILE] + sizes[base + LRU_ACTIVE_FILE];
  if (anonTotal + fileTotal === 0) return 0;
  const demote = canDemote(host, node, memcg, req);
  if (req.demoteOnly === true && !demote) return 0;
  // can_reclaim_anon_pages(): swap space left, or a demotion target.
  const anonOk = host.canSwap(memcg) || demote;
  // get_scan_count(), with equal recent reclaim costs: SCAN_FRACT weights anon by swappiness
  // and file by 200 - swappiness; SCAN_FILE when anon cannot be reclaimed; SCAN_ANON when a
  // global reclaim finds no page cache. Each list's scan is scan × weight / denominator in
  // integers, rounded down as div64_u64() does for a live group.
  let anonWeight: number;
  let fileWeight: number;
  let denominator = 1;
  if (req.demoteOnly === true) {
    anonWeight = 1;
    fileWeight = 1;
  } else if (!anonOk || host.swappiness === 0) {
    anonWeight = 0;
    fileWeight = 1;
  } else if (fileTotal === 0 && req.targetMemcg < 0) {
    // sc->file_is_tiny, which only global reclaim sets. Cgroup reclaim keeps SCAN_FRACT, so a
    // group without page cache has its anon lists scanned at their fraction.
    anonWeight = 1;
    fileWeight = 0;
  } else {
    anonWeight = host.swappiness;
    fileWeight = 200 - host.swappiness;
    denominator = 200;
  }
  // mem_cgroup_protection(): a group above its effective memory.min/low is scanned in
  // proportion to how far above it is (get_scan_count's proportional protection).
  const cg = host.cgroups;
  const unprotected = cg.unprotected(root, memcg) || req.demoteOnly === true;
  const emin = unprotected ? 0 : cg.emin[memcg];
  const elow = unprotected ? 0 : cg.elow[memcg];
  let protection = 0;
  if (emin > 0 || elow > 0) {
    // memory.low scaling; the low-reclaim retry scales by memory.min alone.
    if (!req.memcgLowReclaim && elow > emin) {
      protection = elow;
      req.memcgLowSkipped = true;
    } else protection = emin;
  }
  const cgroupSize = Math.max(cg.usage[memcg], protection);
  const scanTargets = host.reclaimScratch.scanTargets;
  for (let i = 0; i < 4; i++) {
    const lru = SCAN_ORDER[i];
    const isFile = lru >= LRU_INACTIVE_FILE;
    const size = sizes[base + lru];
    let scan = size;
    if (emin > 0 || elow > 0) {
      // At least SWAP_CLUSTER_MAX, to keep reclaim moving; isolation cannot take more than
      // the list holds.
      scan = size - Math.floor((size * protection) / (cgroupSize + 1));
      scan = Math.min(size, Math.max(scan, SWAP_CLUSTER_MAX));
    }
    scan >>= priority; // lru_size >> sc->priority
    // (Only an offline group's small lists get min(size, SWAP_CLUSTER_MAX); numatier's groups
    // are all live.)
    scanTargets[i] = Math.floor((scan * (isFile ? fileWeight : anonWeight)) / denominator);
  }
  const deactivateAnon = inactiveIsLow(sizes[base + LRU_INACTIVE_ANON], sizes[base + LRU_ACTIVE_ANON]);
  const deactivateFile = inactiveIsLow(sizes[base + LRU_INACTIVE_FILE], sizes[base + LRU_ACTIVE_FILE]);
  let reclaimed = 0;
  for (;;) {
    let any = false;
    for (let i = 0; i < 4; i++) {
      if (scanTargets[i] <= 0) continue;
      any = true;
      const lru = SCAN_ORDER[i];
      const n = Math.min(scanTargets[i], SWAP_CLUSTER_MAX);
      scanTargets[i] -= n;
      if (lru === LRU_ACTIVE_ANON || lru === LRU_ACTIVE_FILE) {
        if (lru === LRU_ACTIVE_ANON ? deactivateAnon : deactivateFile)
          shrinkActiveList(host, memcg, node, lru, n, req);
      } else {
        reclaimed += shrinkInactiveList(host, memcg, node, lru, n, req, demote);
      }
    }
    if (!any || reclaimed >= nrToReclaim) break;
  }
  return reclaimed;
}

/**
 * shrink_active_list(): moves up to n pages from the active tail to the inactive head,
 * clearing their young bits (folio_referenced). Executable file pages are not modelled, so no
 * referenced page is kept active here.
 */
function shrinkActiveList(
  host: Host,
  memcg: number,
  node: number,
  lru: number,
  n: number,
  req: ReclaimRequest,
): void {
  const fr = host.frames;
  const from = fr.listId(memcg, node, lru);
  const to = from - 1; // the inactive list of the same type
  let moved = 0;
  prefetchTail(host, from, n, false);
  for (let k = 0; k < n; k++) {
    const p = fr.lruTail[from];
    if (p < 0) break;
    fr.remove(from, p);
    host.testAndClearYoung(p);
    fr.setFlags(p, fr.flagsOf(p) & ~PF_ACTIVE);
    fr.addHead(to, p);
    moved++;
  }
  host.vmstat.add(memcg, node, VM.pgrefill, moved);
  host.vmstat.add(memcg, node, VM.pgdeactivate, moved);
  req.costNs += moved * host.costs.scanPageNs;
}

/**
 * shrink_inactive_list() + shrink_folio_list(): looks at up to n pages from the inactive tail.
 * folio_check_references(): young and PG_referenced → activate; young only → set PG_referenced
 * and keep (second chance); not young → reclaim (demote first when possible).
 */
function shrinkInactiveList(
  host: Host,
  memcg: number,
  node: number,
  lru: number,
  n: number,
  req: ReclaimRequest,
  demote: boolean,
): number {
  const fr = host.frames;
  const list = fr.listId(memcg, node, lru);
  const active = list + 1;
  const v = host.vmstat;
  let batch = 0;
  let scanned = 0;
  let reclaimed = 0;
  let activated = 0;
  const scratchBatch = host.reclaimScratch.batch;
  prefetchTail(host, list, n, true);
  for (let k = 0; k < n; k++) {
    const p = fr.lruTail[list];
    if (p < 0) break;
    scanned++;
    const f = fr.flagsOf(p);
    fr.remove(list, p);
    const keep = host.keepPage;
    const young = host.testAndClearYoung(p);
    if (keep !== null && keep(fr.rmapOf(p), node)) {
      // A page something else pins to this node (a tenant's fast-memory hint): rotate it.
      fr.setFlags(p, f | PF_ACTIVE);
      fr.addHead(active, p);
      activated++;
      continue;
    }
    if (young) {
      if ((f & PF_REFERENCED) !== 0) {
        fr.setFlags(p, f | PF_ACTIVE);
        fr.addHead(active, p);
        activated++;
      } else {
        fr.setFlags(p, f | PF_REFERENCED);
        fr.addHead(list, p);
      }
      continue;
    }
    // FOLIOREF_RECLAIM / RECLAIM_CLEAN: PG_referenced is consumed either way.
    fr.setFlags(p, f & ~PF_REFERENCED);
    if (demote) {
      scratchBatch[batch++] = p;
      // Keep it off-list while batched; demoteBatch or pageout puts it somewhere.
      continue;
    }
    reclaimed += pageout(host, p, list, active, req);
  }
  if (batch > 0) reclaimed += demoteBatch(host, node, memcg, batch, list, active, req);
  const isFile = lru === LRU_INACTIVE_FILE;
  // The reclaimer's pgscan_/pgsteal_ of cgroup reclaim go to the memcg only; the _anon/_file
  // ones to /proc/vmstat as well.
  if (req.targetMemcg >= 0) {
    v.addMemcgOnly(memcg, node, PGSCAN[req.reclaimer], scanned);
    v.addMemcgOnly(memcg, node, PGSTEAL[req.reclaimer], reclaimed);
  } else {
    v.add(memcg, node, PGSCAN[req.reclaimer], scanned);
    v.add(memcg, node, PGSTEAL[req.reclaimer], reclaimed);
  }
  v.add(memcg, node, isFile ? VM.pgscan_file : VM.pgscan_anon, scanned);
  v.add(memcg, node, isFile ? VM.pgsteal_file : VM.pgsteal_anon, reclaimed);
  v.add(memcg, node, VM.pgactivate, activated);
  req.costNs += scanned * host.costs.scanPageNs;
  return reclaimed;
}

/**
 * Reclaims one isolated page the ordinary way: anon to swap if there is room (else it is
 * activated, as when add_to_swap fails), file pages written back if dirty and dropped.
 * Returns 1 if the frame was freed.
 */
function pageout(
  host: Host,
  p: number,
  inactiveList: number,
  activeList: number,
  req: ReclaimRequest,
): number {
  const fr = host.frames;
  const f = fr.flagsOf(p);
  if ((f & PF_FILE) !== 0) {
    if (host.pageDirty(p)) req.costNs += host.costs.fileWritebackNs;
    fr.addHead(inactiveList, p); // freeUserPage unlinks it from its list
    host.freeUserPage(p, PTE_FILE_SHADOW);
    return 1;
  }
  const node = fr.nodeOf(p);
  const memcg = host.memcgOfPage(p);
  fr.addHead(inactiveList, p); // swapOut unlinks it from its list
  if (host.swapOut(p)) {
    host.vmstat.add(memcg, node, VM.pswpout, 1);
    req.costNs += host.costs.swapOutNs;
    return 1;
  }
  // add_to_swap() failed: activate_locked.
  fr.remove(inactiveList, p);
  fr.setFlags(p, f | PF_ACTIVE);
  fr.addHead(activeList, p);
  return 0;
}

/**
 * demote_folio_list(): migrates a batch to the policy's target, falling back over its allowed
 * nodes. The target allocation never enters direct reclaim: it succeeds while the node is
 * above MIN (waking its kswapd below LOW) and fails otherwise. Failed pages get ordinary
 * reclaim unless the reclaim is proactive (then they go back to the inactive list).
 */
function demoteBatch(
  host: Host,
  node: number,
  memcg: number,
  count: number,
  inactiveList: number,
  activeList: number,
  req: ReclaimRequest,
): number {
  const fr = host.frames;
  const policy = host.demotion;
  const { batch: scratchBatch, targets: scratchTargets } = host.reclaimScratch;
  let nTargets = policy.batchTargets(node, host.rng, scratchTargets);
  const mems = host.memcgMems[memcg];
  if (mems !== null) {
    // Only nodes within the group's cpuset.mems (demote_folio_list, 6.16+). If the policy's
    // target is outside them, the batch goes to a random one of the allowed nodes left.
    const targetAllowed = nTargets > 0 && mems[scratchTargets[0]] === 1;
    let k = 0;
    for (let i = 0; i < nTargets; i++)
      if (mems[scratchTargets[i]] === 1) scratchTargets[k++] = scratchTargets[i];
    if (!targetAllowed && k > 1) {
      const pick = host.rng.nextInt(k);
      const t = scratchTargets[pick];
      scratchTargets[pick] = scratchTargets[0];
      scratchTargets[0] = t;
    }
    nTargets = k;
  }
  let demoted = 0;
  let reclaimed = 0;
  const target = scratchTargets.subarray(0, Math.min(1, nTargets));
  const fallback = scratchTargets.subarray(Math.min(1, nTargets), nTargets);
  for (let i = 0; i < count; i++) {
    const p = scratchBatch[i];
    // alloc_demote_folio(): the target node alone first, then the allowed mask; GFP_NOWAIT
    // means no direct reclaim, but kswapd is woken on nodes below LOW.
    const g = fr.rmapOf(p);
    let dst = host.pickNode(target, memcg, g);
    if (dst < 0) dst = host.pickNode(fallback, memcg, g);
    if (dst >= 0) {
      // The demoted page arrives cold: inactive, unreferenced, not young, not hint-marked.
      fr.addHead(inactiveList, p); // migratePage unlinks from the current list
      host.migratePage(p, dst, DEMOTE_KEEP_FLAGS, req.reason ?? DEMOTE_REASON[req.reclaimer], PTE_DIRTY);
      // No TLB shootdown of its own: migrate_pages() unmaps the batch and flushes once for it.
      req.costNs += host.costs.demotePageNs;
      demoted++;
      continue;
    }
    host.vmstat.add(memcg, node, VM.pgmigrate_fail, 1);
    if (req.reclaimer === RECLAIM_PROACTIVE || req.demoteOnly === true) {
      fr.addHead(inactiveList, p);
    } else {
      reclaimed += pageout(host, p, inactiveList, activeList, req);
    }
  }
  if (demoted > 0) {
    host.vmstat.add(memcg, node, PGDEMOTE[req.reclaimer], demoted);
    host.vmstat.add(memcg, node, VM.pgmigrate_success, demoted);
  }
  return reclaimed + demoted;
}

/**
 * do_try_to_free_pages(): shrinkNode over `nodes` in order, priority 12 → 0, until `goal`
 * pages are reclaimed. After a run that reclaimed nothing because memory.low held ("untapped
 * cgroup reserves? Don't OOM, retry"), one more run reclaims the protected groups too. The
 * work done, in ns, is added to `cost[0]` when a cost accumulator is given.
 */
function doTryToFreePages(
  host: Host,
  nodes: ArrayLike<number>,
  goal: number,
  reclaimer: number,
  targetMemcg: number,
  cost: Float64Array | undefined,
): number {
  const req: ReclaimRequest = {
    reclaimer,
    targetMemcg,
    memcgLowReclaim: false,
    memcgLowSkipped: false,
    noDemotion: false,
    costNs: 0,
  };
  let reclaimed = 0;
  for (;;) {
    // shrink_zones() shrinks every node of the zonelist once per priority, each lruvec working
    // toward the whole goal; do_try_to_free_pages() checks the goal only between priorities.
    for (let prio = DEF_PRIORITY; prio >= 0 && reclaimed < goal; prio--) {
      for (let i = 0; i < nodes.length; i++) {
        reclaimed += shrinkNode(host, nodes[i], goal, prio, req, reclaimed);
      }
    }
    if (reclaimed > 0 || req.memcgLowReclaim || req.memcgLowSkipped !== true) break;
    req.memcgLowReclaim = true;
    req.memcgLowSkipped = false;
  }
  if (cost !== undefined) cost[0] += req.costNs;
  return reclaimed;
}

/**
 * try_to_free_pages(): direct reclaim over the allocation's nodes until SWAP_CLUSTER_MAX
 * pages are reclaimed. Returns pages reclaimed; the work done, in ns, is added to `cost[0]`.
 */
export function directReclaim(
  host: Host,
  nodes: Int32Array,
  targetMemcg: number,
  cost?: Float64Array,
): number {
  return doTryToFreePages(host, nodes, SWAP_CLUSTER_MAX, RECLAIM_DIRECT, targetMemcg, cost);
}

/**
 * try_to_free_mem_cgroup_pages(): reclaim within a memcg subtree, over every node in the
 * zonelist of the charging task's node. Returns pages reclaimed; the work done, in ns, is added
 * to `cost[0]`.
 */
export function memcgReclaim(
  host: Host,
  memcg: number,
  nrPages: number,
  cpuNode: number,
  cost?: Float64Array,
): number {
  const nodes = host.topo.nodes[cpuNode].zonelist;
  return doTryToFreePages(host, nodes, Math.max(nrPages, SWAP_CLUSTER_MAX), RECLAIM_DIRECT, memcg, cost);
}

/**
 * memory.reclaim: memory_reclaim() in mm/memcontrol.c (6.9+). It asks
 * try_to_free_mem_cgroup_pages() for a quarter of what is still missing at a time (at least
 * SWAP_CLUSTER_MAX), each call a full walk from DEF_PRIORITY over the writer's zonelist, until
 * `nrPages` are reclaimed or MAX_RECLAIM_RETRIES + 1 calls have reclaimed nothing (the write
 * then fails with EAGAIN). The later calls reach what the earlier ones demoted: on a tiered host
 * part of the request is met by swapping out pages just demoted to the lower tier. Returns pages
 * reclaimed (demoted pages count, as in the kernel); the work done, in ns, is added to `cost[0]`.
 * The writer runs on a CPU of `writerNode`, whose zonelist the calls walk.
 */
export function proactiveReclaim(
  host: Host,
  memcg: number,
  nrPages: number,
  cost?: Float64Array,
  writerNode = 0,
): number {
  const nodes = host.topo.nodes[writerNode].zonelist;
  let reclaimed = 0;
  let retries = MAX_RECLAIM_RETRIES;
  while (reclaimed < nrPages) {
    const batch = Math.floor((nrPages - reclaimed) / 4);
    const got = doTryToFreePages(
      host,
      nodes,
      Math.max(batch, SWAP_CLUSTER_MAX),
      RECLAIM_PROACTIVE,
      memcg,
      cost,
    );
    if (got === 0 && retries-- === 0) break;
    reclaimed += got;
  }
  return reclaimed;
}

/**
 * Demotes up to `nrPages` of the coldest pages of a memcg subtree off `node` (reclaim scoped
 * to the group, demotion only: idea S10's rebalancing). Counted as proactive demotion, with
 * `reason` in the migration ledger. Returns pages demoted; the work done, in ns, is added to
 * `cost[0]` when a cost accumulator is given.
 */
export function demoteMemcg(
  host: Host,
  memcg: number,
  node: number,
  nrPages: number,
  reason: number,
  cost?: Float64Array,
): number {
  const req: ReclaimRequest = {
    reclaimer: RECLAIM_PROACTIVE,
    targetMemcg: memcg,
    memcgLowReclaim: false,
    noDemotion: false,
    demoteOnly: true,
    reason,
    costNs: 0,
  };
  let done = 0;
  for (let prio = DEF_PRIORITY; prio >= 0 && done < nrPages; prio--) {
    done += shrinkNode(host, node, nrPages - done, prio, req);
  }
  if (cost !== undefined) cost[0] += req.costNs;
  return done;
}

/**
 * What a page keeps when it is demoted: none of its aging state (and, in its PTE, only the
 * dirty bit: no accessed bit, no hint marking); a promoted page keeps its LRU state and its
 * PTE's accessed and dirty bits.
 */
export const DEMOTE_KEEP_FLAGS = PF_FILE;
export const PROMOTE_KEEP_FLAGS = PF_FILE | PF_ACTIVE | PF_REFERENCED;
export const PROMOTE_KEEP_PTE = PTE_DIRTY | PTE_YOUNG;
