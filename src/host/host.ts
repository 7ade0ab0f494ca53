import { AddressSpace, type AddressSpaceSpec } from './address-space.js';
import { CgroupTree, type CgroupSpec } from './cgroups.js';
import type { KernelCosts } from './costs.js';
import { KW } from './kernel-work.js';
import {
  FrameTable,
  LRU_INACTIVE_ANON,
  LRU_INACTIVE_FILE,
  PF_FILE,
  PF_KERNEL,
  lruOfFlags,
} from './frames.js';
import type { HostTopology } from './host-topology.js';
import { VM, Vmstat, zoneItem } from './vmstat.js';
import { MigrationLedger } from './migration-ledger.js';
import type { DemotionPolicy, RandomSource } from '../policies/demotion/types.js';

import { PTE_DIRTY, PTE_FILE_SHADOW, PTE_NONE, PTE_PFN_MASK, PTE_SWAP, PTE_YOUNG } from './pte.js';
import {
  HZ,
  MEMCG_CHARGE_BATCH,
  MEMCG_MAX_HIGH_DELAY_JIFFIES,
  MEMCG_MIN_HIGH_DELAY_JIFFIES,
  highDelayJiffies,
  maxOverage,
} from './memcg-high.js';
import { directReclaim, memcgReclaim } from './reclaim.js';
import { NUMA_BALANCING_MEMORY_TIERING } from './numa-balancing/constants.js';
import { DEFAULT_CPUPID_LAYOUT } from './numa-balancing/cpupid.js';

const SWAP_CLUSTER_MAX_PAGES = 32;

export {
  PTE_DIRTY,
  PTE_FILE_SHADOW,
  PTE_NONE,
  PTE_PFN_MASK,
  PTE_PROTNONE,
  PTE_SWAP,
  PTE_YOUNG,
  RECLAIM_DIRECT,
  RECLAIM_KSWAPD,
  RECLAIM_PROACTIVE,
} from './pte.js';

export interface HostOptions {
  topology: HostTopology;
  cgroups: readonly CgroupSpec[];
  addressSpaces: readonly AddressSpaceSpec[];
  swapPages: number;
  /** vm.swappiness, 0..200. */
  swappiness: number;
  /** /sys/kernel/mm/numa/demotion_enabled */
  demotionEnabled: boolean;
  demotion: DemotionPolicy;
  /** kernel.numa_balancing: bit 0 NORMAL, bit 1 MEMORY_TIERING. */
  numaBalancing: number;
  costs: KernelCosts;
  rng: RandomSource;
  /** A page demoted within this many ms of its promotion counts as ping-pong (default 10 s). */
  pingpongWindowMs?: number;
  /** The cgroup2 mount option memory_recursiveprot (default false). */
  memoryRecursiveProt?: boolean;
}

/** Hooks the engine installs; the host never schedules anything itself. */
export interface HostEvents {
  wakeKswapd(node: number): void;
  oomKill(as: AddressSpace, memcg: number, reason: 'memcg' | 'global'): void;
}

/**
 * The simulated kernel's memory state: frames, page tables, LRU lists, cgroups, counters, and
 * the operations on them (fault, allocate, charge, free, migrate). Reclaim lives in
 * reclaim.ts. Time is the engine's: `now` (ns) is set before the host is called.
 */
export class Host {
  readonly topo: HostTopology;
  readonly nodes: number;
  readonly frames: FrameTable;
  readonly cgroups: CgroupTree;
  readonly vmstat: Vmstat;
  readonly spaces: AddressSpace[] = [];
  /** Global page table over every address space: pfn, or a PTE_* value. */
  readonly pt: Int32Array;
  /** Address-space id for each 4096-page chunk of the global virtual space. */
  private readonly spaceOfChunk: Uint16Array;
  readonly wmarkMin: Float64Array;
  readonly wmarkLow: Float64Array;
  readonly wmarkHigh: Float64Array;
  readonly wmarkPromo: Float64Array;
  readonly toptier: Uint8Array;
  /** nr_cpu_ids: one more than the highest CPU id of any node. */
  readonly nrCpuIds: number;
  /** cpu_to_node() as a dense node index for every CPU id below nrCpuIds (-1: no such CPU). */
  readonly cpuToNode: Int32Array;
  /** Per node: 1 when its (single) zone is ZONE_MOVABLE, else ZONE_NORMAL. */
  readonly zoneMovable: Uint8Array;
  readonly swapPages: number;
  swapUsed = 0;
  swappiness: number;
  demotionEnabled: boolean;
  demotion: DemotionPolicy;
  numaBalancing: number;
  readonly costs: KernelCosts;
  readonly rng: RandomSource;
  events: HostEvents = { wakeKswapd: () => {}, oomKill: () => {} };
  private readonly clock = new Float64Array(1);
  /** Current simulated time in ns (a typed-array slot: see TaskStats on V8 field types). */
  get now(): number {
    return this.clock[0];
  }
  set now(x: number) {
    this.clock[0] = x;
  }
  /** Every migration by mechanism, plus per-page promotion/demotion history. */
  readonly ledger: MigrationLedger;
  /** Whether kswapd of a node has been woken and not yet gone back to sleep. */
  readonly kswapdAwake: Uint8Array;
  /**
   * numatier's own count of kswapd wake-ups per node (wakeKswapd() calls that woke it). The
   * kernel has no such /proc/vmstat counter, only the mm_vmscan_wakeup_kswapd tracepoint.
   */
  readonly kswapdWakeups: Float64Array;
  /** Consecutive kswapd runs without progress (kswapd_failures). */
  readonly kswapdFailures: Uint8Array;
  /** kswapd's current scan priority per node (DEF_PRIORITY 12 down to 1). */
  readonly kswapdPriority: Uint8Array;
  /**
   * Per memcg: its cpuset.mems as a node mask (the union of its tasks' cpusets), or null when
   * every node is allowed. Reclaim demotes only into these nodes (6.16+, see can_demote()).
   */
  readonly memcgMems: (Uint8Array | null)[];

  constructor(o: HostOptions) {
    this.topo = o.topology;
    this.nodes = o.topology.nodes.length;
    this.cgroups = new CgroupTree(o.cgroups, this.nodes, o.memoryRecursiveProt ?? false);
    this.frames = new FrameTable(
      o.topology.nodes.map((n) => n.capacityPages),
      this.cgroups.count,
    );
    this.vmstat = new Vmstat(this.cgroups.count, this.nodes);
    this.wmarkMin = Float64Array.from(o.topology.nodes, (n) => n.wmarkMin);
    this.wmarkLow = Float64Array.from(o.topology.nodes, (n) => n.wmarkLow);
    this.wmarkHigh = Float64Array.from(o.topology.nodes, (n) => n.wmarkHigh);
    this.wmarkPromo = Float64Array.from(o.topology.nodes, (n) => n.wmarkPromo);
    this.toptier = Uint8Array.from(o.topology.nodes, (n) => (n.toptier ? 1 : 0));
    this.zoneMovable = Uint8Array.from(o.topology.nodes, (n) => (n.movable ? 1 : 0));
    this.nrCpuIds = o.topology.nodes.reduce((m, n) => Math.max(m, ...n.cpus.map((c) => c + 1)), 0);
    this.cpuToNode = new Int32Array(this.nrCpuIds).fill(-1);
    o.topology.nodes.forEach((n, i) => n.cpus.forEach((c) => (this.cpuToNode[c] = i)));
    this.swapPages = o.swapPages;
    this.swappiness = o.swappiness;
    this.demotionEnabled = o.demotionEnabled;
    this.demotion = o.demotion;
    this.numaBalancing = o.numaBalancing;
    this.costs = o.costs;
    this.rng = o.rng;
    this.kswapdAwake = new Uint8Array(this.nodes);
    this.kswapdWakeups = new Float64Array(this.nodes);
    this.kswapdFailures = new Uint8Array(this.nodes);
    this.kswapdPriority = new Uint8Array(this.nodes).fill(12);

    // Each window starts on a 4096-page boundary so the owner of any page is one shift away.
    let base = 0;
    for (const spec of o.addressSpaces) {
      this.spaces.push(new AddressSpace(this.spaces.length, base, spec, this.nodes));
      base += Math.ceil(spec.pages / 4096) * 4096;
    }
    if (base >= 2 ** 31) throw new Error('total virtual footprint exceeds 2^31 pages');
    this.pt = new Int32Array(base).fill(PTE_NONE);
    this.spaceOfChunk = new Uint16Array(Math.max(1, base >>> 12));
    this.ledger = new MigrationLedger(this.spaces.length, base, o.pingpongWindowMs ?? 10_000);
    for (const as of this.spaces) {
      this.spaceOfChunk.fill(as.id, as.base >>> 12, (as.base + Math.ceil(as.pages / 4096) * 4096) >>> 12);
    }
    this.memcgMems = Array.from({ length: this.cgroups.count }, (_, memcg) => {
      const specs = o.addressSpaces.filter((s) => s.memcg === memcg);
      if (specs.length === 0 || specs.some((s) => s.cpuset === undefined || s.cpuset === null)) return null;
      const mask = new Uint8Array(this.nodes);
      for (const s of specs) for (const n of s.cpuset as readonly number[]) mask[n] = 1;
      return mask;
    });
  }

  /**
   * can_demote()'s cpuset check (6.16+, in the form that checks every allowed target): may
   * reclaim of `memcg`'s pages on `node` demote at all, given the group's cpuset.mems?
   */
  demotionAllowed(memcg: number, node: number): boolean {
    const mems = this.memcgMems[memcg];
    if (mems === null) return true;
    return this.demotion.targets(node).some((n) => mems[n] === 1);
  }

  /** The pfn mapped at global virtual page `g`, or -1 if not present. */
  pfnAt(g: number): number {
    const e = this.pt[g];
    return e < 0 ? -1 : e & PTE_PFN_MASK;
  }

  /** folio_referenced() for one mapping: was page `p` accessed since the last check? Clears the bit. */
  testAndClearYoung(p: number): boolean {
    const g = this.frames.rmapOf(p);
    const e = this.pt[g];
    if ((e & PTE_YOUNG) === 0) return false;
    this.pt[g] = e & ~PTE_YOUNG;
    return true;
  }

  /** Whether user page `p` has been written since it was last clean (its PTE's dirty bit). */
  pageDirty(p: number): boolean {
    return (this.pt[this.frames.rmapOf(p)] & PTE_DIRTY) !== 0;
  }

  spaceOf(gvpn: number): AddressSpace {
    return this.spaces[this.spaceOfChunk[gvpn >>> 12]];
  }

  /** memcg of a user page (rmap → address space → its cgroup). */
  memcgOfPage(p: number): number {
    const f = this.frames.flagsOf(p);
    if ((f & PF_KERNEL) !== 0) return this.frames.rmapOf(p);
    return this.spaceOf(this.frames.rmapOf(p)).memcg;
  }

  freePages(node: number): number {
    return this.frames.freeCount[node];
  }

  /** pgdat_balanced(): kswapd may sleep once free exceeds HIGH, or PROMO in tiering mode. */
  nodeBalanced(node: number): boolean {
    const mark = (this.numaBalancing & 2) !== 0 ? this.wmarkPromo[node] : this.wmarkHigh[node];
    return this.frames.freeCount[node] > mark;
  }

  wakeKswapd(node: number): void {
    if (this.kswapdAwake[node] !== 0 || this.nodeBalanced(node)) return;
    if (this.kswapdFailures[node] >= 16) return; // MAX_RECLAIM_RETRIES: node considered hopeless
    this.kswapdAwake[node] = 1;
    this.kswapdWakeups[node]++;
    this.events.wakeKswapd(node);
  }

  /** Memory used per node by a memcg itself (user + kernel pages). */
  memcgNodePages(memcg: number, node: number): number {
    return this.cgroups.nodePages[memcg * this.nodes + node];
  }

  // ---------------------------------------------------------------- faults and allocation

  /**
   * mm_account_fault()'s PGFAULT: handle_mm_fault() ends with it for every fault that is not
   * retried, failed ones included, whatever the fault was (a missing page, a swap-in, or a NUMA
   * hint fault through do_numa_page()). PGFAULT is a per-CPU event, so it goes on the task's
   * CPU node; the memcg is the mm's (count_memcg_event_mm).
   */
  mmAccountFault(as: AddressSpace): void {
    this.vmstat.add(as.memcg, as.cpuNode, VM.pgfault, 1);
  }

  /**
   * Handles a fault on a non-present page of `as` at `vpn`: charges, allocates, installs, and
   * returns the cost in ns paid by the task. If the task is OOM-killed meanwhile, returns -1.
   */
  fault(as: AddressSpace, vpn: number, isWrite: boolean): number {
    const g = as.base + vpn;
    const pte = this.pt[g];
    const isFile = vpn >= as.anonPages;
    const memcg = as.memcg;
    let cost: number;
    let kind: number;
    const statNode = as.cpuNode;
    this.mmAccountFault(as);
    if (pte === PTE_SWAP) {
      cost = this.costs.swapInNs;
      kind = KW.swap_in;
      this.vmstat.add(memcg, statNode, VM.pgmajfault, 1);
      this.vmstat.add(memcg, statNode, VM.pswpin, 1);
      this.vmstat.add(memcg, statNode, VM.workingset_refault_anon, 1);
    } else if (isFile) {
      cost = this.costs.fileReadNs;
      kind = KW.file_read;
      this.vmstat.add(memcg, statNode, VM.pgmajfault, 1);
      if (pte === PTE_FILE_SHADOW) this.vmstat.add(memcg, statNode, VM.workingset_refault_file, 1);
    } else {
      cost = this.costs.minorFaultNs;
      kind = KW.page_faults;
    }
    const chargeCost = this.chargePages(as, memcg, 1);
    if (chargeCost < 0) return -1;
    const ilx = vpn; // private mapping: the interleave index is the virtual page number
    const pfn = this.allocUserFrame(as, ilx);
    if (pfn < 0) {
      this.cgroups.uncharge(memcg, 1);
      return -1;
    }
    const allocCost = this.lastAllocCost;
    if (pte === PTE_SWAP) this.freeSwapSlot(memcg);
    this.installPage(as, g, pfn, isFile, isWrite);
    if (pte === PTE_NONE) as.touchedPages++;
    const sleptBefore = as.highThrottleNs;
    const high = this.handleOverHigh(as, memcg);
    const slept = as.highThrottleNs - sleptBefore;
    // Attributed only when the fault succeeds: a failed one (OOM) is not charged to the task.
    const by = as.kernelNsBy;
    by[kind] += cost;
    by[KW.reclaim] += chargeCost + allocCost + (high - slept);
    by[KW.memory_high_throttle] += slept;
    return cost + chargeCost + allocCost + high;
  }

  private installPage(as: AddressSpace, g: number, pfn: number, isFile: boolean, isWrite: boolean): void {
    const fr = this.frames;
    const node = fr.nodeOf(pfn);
    // New pages start on the inactive list (workingset protection, 5.9+); the access that
    // faulted them in sets the PTE's accessed bit (and dirty bit on a write).
    fr.setFlags(pfn, isFile ? PF_FILE : 0);
    fr.setRmap(pfn, g);
    // A freed page's last_cpupid is reset (free_pages_prepare → page_cpupid_reset_last()).
    fr.setStamp(pfn, DEFAULT_CPUPID_LAYOUT.CPUPID_UNSET);
    fr.addHead(fr.listId(as.memcg, node, isFile ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON), pfn);
    this.pt[g] = pfn | PTE_YOUNG | (isWrite ? PTE_DIRTY : 0);
    as.rssByNode[node]++;
    this.cgroups.nodePages[as.memcg * this.nodes + node]++;
  }

  /** Cost (ns) of the allocation last made by allocUserFrame/allocFrameOn (its reclaim work). */
  lastAllocCost = 0;

  /**
   * The page allocator for a user page: the placement's candidates with the fast path at LOW,
   * the slow path (wake kswapd, retry at MIN), then direct reclaim with retries, then OOM.
   */
  allocUserFrame(as: AddressSpace, ilx: number): number {
    this.lastAllocCost = 0;
    const c = as.placement.candidates(ilx);
    let p = this.allocFrom(c.primary, as, !c.primaryNoDirectReclaim, c.interleaveNid);
    if (p >= 0 || !as.alive) return p;
    if (c.secondary !== null) p = this.allocFrom(c.secondary, as, true, c.interleaveNid);
    if (p >= 0 || !as.alive) return p;
    this.oomKill(as, 0, 'global');
    return -1;
  }

  /** Notified of every migration (the engine adds it to bandwidth contention). */
  onMigrate: (src: number, dst: number) => void = () => {};

  /**
   * Reclaim consults this for every page it would reclaim or demote: true keeps the page on
   * its node (e.g. a tenant's fast-memory hint). `g` is the global virtual page.
   */
  keepPage: ((g: number, node: number) => boolean) | null = null;

  /**
   * NUMA-balancing promotion consults this before moving page `p` of `memcg` to `dst`: false
   * refuses the promotion; a gate may make room first (demote a colder page: an exchange).
   */
  promotionGate: ((memcg: number, p: number, dst: number) => boolean) | null = null;

  /** Hook for ratio enforcement: may a page of `memcg` be placed on `node` now? */
  nodeAllowed: (memcg: number, node: number) => boolean = () => true;

  /**
   * get_page_from_freelist() twice, as the allocator's fast and slow paths do without reclaim:
   * the first node above LOW; else wake kswapd on every node of the list (wake_all_kswapds)
   * and take the first above MIN. Returns the node, or -1.
   */
  pickNode(nodes: ArrayLike<number>, memcg: number, demotedPage = -1): number {
    const free = this.frames.freeCount;
    const allow = demotedPage >= 0 ? this.demotion.allowPage : undefined;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (allow !== undefined && !allow(demotedPage, n, this.hasLeft)) continue;
      if (free[n] > this.wmarkLow[n] && this.nodeAllowed(memcg, n)) return n;
    }
    for (let i = 0; i < nodes.length; i++) this.wakeKswapd(nodes[i]);
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (allow !== undefined && !allow(demotedPage, n, this.hasLeft)) continue;
      if (free[n] > this.wmarkMin[n] && this.nodeAllowed(memcg, n)) return n;
    }
    return -1;
  }

  private readonly hasLeft = (g: number, n: number): boolean => this.ledger.hasLeft(g, n);

  private allocFrom(nodes: Int32Array, as: AddressSpace, mayReclaim: boolean, ilNid: number): number {
    const memcg = as.memcg;
    const preferred = nodes.length > 0 ? nodes[0] : -1;
    let n = this.pickNode(nodes, memcg);
    if (n >= 0) return this.takeFrame(n, preferred, as, ilNid);
    if (!mayReclaim) return -1;
    // Direct reclaim, then retry at MIN, up to MAX_RECLAIM_RETRIES without progress.
    const free = this.frames.freeCount;
    let noProgress = 0;
    while (noProgress < 16) {
      // do_try_to_free_pages() counts ALLOCSTALL in zone sc->reclaim_idx = gfp_zone(gfp). A user
      // page is GFP_HIGHUSER_MOVABLE, whose gfp_zone() is ZONE_MOVABLE whatever zones the
      // nodes have: allocstall_movable.
      this.vmstat.add(memcg, as.cpuNode, VM.allocstall_movable, 1);
      const r = directReclaim(this, nodes, -1);
      this.lastAllocCost += this.reclaimCostNs;
      for (let i = 0; i < nodes.length; i++) {
        n = nodes[i];
        if (free[n] > this.wmarkMin[n] && this.nodeAllowed(memcg, n))
          return this.takeFrame(n, preferred, as, ilNid);
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
  private takeFrame(n: number, preferred: number, as: AddressSpace, ilNid: number): number {
    const p = this.frames.takeFree(n);
    const v = this.vmstat;
    v.add(as.memcg, n, zoneItem(VM.pgalloc_normal, this.zoneMovable[n] !== 0), 1);
    if (n === preferred) v.add(as.memcg, n, VM.numa_hit, 1);
    else {
      v.add(as.memcg, n, VM.numa_miss, 1);
      if (preferred >= 0) v.add(as.memcg, preferred, VM.numa_foreign, 1);
    }
    v.add(as.memcg, n, n === as.cpuNode ? VM.numa_local : VM.numa_other, 1);
    if (n === ilNid) v.add(as.memcg, n, VM.numa_interleave, 1);
    return p;
  }

  // ---------------------------------------------------------------- memcg charging

  /**
   * try_charge(): charge `nr` pages, reclaiming the over-limit group's subtree as needed (up to
   * MAX_RECLAIM_RETRIES), then OOM-killing inside it. Returns the cost in ns, or -1 if `as`
   * itself was killed.
   */
  chargePages(as: AddressSpace, memcg: number, nr: number): number {
    let cost = 0;
    for (let retries = 0; ;) {
      const over = this.cgroups.tryCharge(memcg, nr);
      if (over < 0) return cost;
      this.cgroups.event(over, 'max');
      const reclaimed = memcgReclaim(this, over, Math.max(nr, 32), as.cpuNode);
      cost += this.reclaimCostNs;
      if (reclaimed > 0) {
        retries = 0;
        continue;
      }
      if (++retries < 16) continue;
      this.cgroups.event(over, 'oom');
      const victim = this.oomKill(as, over, 'memcg');
      if (victim === as || !as.alive) return -1;
      if (victim === null) return -1;
    }
  }

  /**
   * memory.high, after a fault's charge. try_charge() marks the task when the charge leaves
   * its group or an ancestor over memory.high. The kernel charges MEMCG_CHARGE_BATCH pages
   * at a time, so the handling on the way back to user space (mem_cgroup_handle_over_high)
   * comes once per batch of pages charged over high. It reclaims (reclaim_high), and keeps
   * reclaiming while that makes progress and the groups are still far enough over to owe a
   * sleep; if reclaim stops making progress (16 tries), the task sleeps for the penalty
   * (memcg-high.ts). Returns the cost in ns, reclaim and sleep together.
   */
  private handleOverHigh(as: AddressSpace, memcg: number): number {
    const cg = this.cgroups;
    if (cg.overHigh(memcg) < 0) return 0;
    if (++as.pagesOverHigh < MEMCG_CHARGE_BATCH) return 0;
    const nrPages = as.pagesOverHigh;
    as.pagesOverHigh = 0;
    let cost = 0;
    let retries = 16; // MAX_RECLAIM_RETRIES
    let inRetry = false;
    for (;;) {
      // reclaim_high(): every group from the task's up to the root's child that is over.
      let reclaimed = 0;
      for (let c = memcg; c > 0; c = cg.parent[c]) {
        if (cg.usage[c] <= cg.memoryHigh[c]) continue;
        cg.event(c, 'high');
        reclaimed += memcgReclaim(this, c, inRetry ? SWAP_CLUSTER_MAX_PAGES : nrPages, as.cpuNode);
        cost += this.reclaimCostNs;
      }
      const penalty = Math.min(
        highDelayJiffies(maxOverage(cg, memcg), nrPages),
        MEMCG_MAX_HIGH_DELAY_JIFFIES,
      );
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

  /** Scratch result of the last reclaim call: work done, in ns, by whoever called it. */
  reclaimCostNs = 0;

  // ---------------------------------------------------------------- freeing, OOM

  /**
   * can_reclaim_anon_pages()'s swap half: is there a free swap slot, and room under the
   * memory.swap.max of `memcg` and its ancestors?
   */
  canSwap(memcg: number): boolean {
    return this.swapUsed < this.swapPages && this.cgroups.swapRoom(memcg) > 0;
  }

  /**
   * add_to_swap() for anon page `p`: takes a swap slot, charges it to the page's memcg
   * (mem_cgroup_try_charge_swap) and unmaps the page. Returns false, changing nothing, when
   * there is no free slot or the charge would break a memory.swap.max.
   */
  swapOut(p: number): boolean {
    const memcg = this.memcgOfPage(p);
    if (!this.canSwap(memcg)) return false;
    this.freeUserPage(p, PTE_SWAP);
    this.swapUsed++;
    this.cgroups.chargeSwap(memcg);
    return true;
  }

  /** A swap slot of `memcg` is freed (swap-in, or its mapping went away). */
  private freeSwapSlot(memcg: number): void {
    this.swapUsed--;
    this.cgroups.unchargeSwap(memcg);
  }

  /** Unmaps and frees a user page; `pte` is what the page-table entry becomes. */
  freeUserPage(p: number, pte: number): void {
    const fr = this.frames;
    const g = fr.rmapOf(p);
    const as = this.spaceOf(g);
    const node = fr.nodeOf(p);
    fr.remove(fr.listId(as.memcg, node, lruOfFlags(fr.flagsOf(p))), p);
    this.pt[g] = pte;
    this.ledger.evicted(g);
    as.rssByNode[node]--;
    this.cgroups.nodePages[as.memcg * this.nodes + node]--;
    this.cgroups.uncharge(as.memcg, 1);
    this.vmstat.add(as.memcg, node, VM.pgfree, 1);
    fr.putFree(p);
  }

  /**
   * The OOM killer: kills the address space with the largest RSS within `scope` (a memcg
   * subtree, or everything for a global OOM), frees its memory, and reports it.
   */
  oomKill(faulting: AddressSpace, scope: number, reason: 'memcg' | 'global'): AddressSpace | null {
    let victim: AddressSpace | null = null;
    let best = -1;
    for (const as of this.spaces) {
      if (!as.alive || !this.cgroups.isDescendant(as.memcg, scope)) continue;
      const rss = as.rss();
      if (rss > best) {
        best = rss;
        victim = as;
      }
    }
    if (victim === null) {
      faulting.alive = false;
      faulting.killedAtNs = this.now;
      return null;
    }
    this.killSpace(victim);
    this.vmstat.add(victim.memcg, victim.cpuNode, VM.oom_kill, 1);
    this.cgroups.event(victim.memcg, 'oom_kill');
    this.events.oomKill(victim, scope, reason);
    return victim;
  }

  /** exit_mmap(): the address space ends (its task exits or is killed); its memory is freed. */
  killSpace(as: AddressSpace): void {
    as.alive = false;
    as.killedAtNs = this.now;
    for (let g = as.base; g < as.base + as.pages; g++) {
      const pte = this.pt[g];
      if (pte >= 0) this.freeUserPage(pte & PTE_PFN_MASK, PTE_NONE);
      else if (pte === PTE_SWAP) {
        this.freeSwapSlot(as.memcg);
        this.pt[g] = PTE_NONE;
      }
    }
  }

  // ---------------------------------------------------------------- kernel memory

  /**
   * Allocates `nr` unmovable kernel pages (slab) charged to `memcg`, trying `nodes` in order
   * at the MIN watermark (kernel allocations may dip below LOW). Returns how many were placed.
   */
  allocKernelPages(memcg: number, nodes: Int32Array, nr: number): number {
    let placed = 0;
    while (placed < nr && this.allocKernelPage(memcg, nodes) >= 0) placed++;
    return placed;
  }

  /** One unmovable kernel page charged to `memcg`; returns the node it landed on, or -1. */
  allocKernelPage(memcg: number, nodes: Int32Array): number {
    const fr = this.frames;
    // __GFP_ACCOUNT: charged like user memory; one round of memcg reclaim, then failure.
    let over = this.cgroups.tryCharge(memcg, 1);
    if (over >= 0) {
      this.cgroups.event(over, 'max');
      memcgReclaim(this, over, SWAP_CLUSTER_MAX_PAGES, nodes.length > 0 ? nodes[0] : 0);
      over = this.cgroups.tryCharge(memcg, 1);
      if (over >= 0) return -1;
    }
    let n = this.pickNode(nodes, memcg);
    // GFP_KERNEL may enter direct reclaim (which demotes or swaps user pages) before failing;
    // do_try_to_free_pages() counts it in gfp_zone(GFP_KERNEL) = ZONE_NORMAL.
    for (let tries = 0; n < 0 && tries < 4; tries++) {
      if (nodes.length > 0) this.vmstat.add(memcg, nodes[0], VM.allocstall_normal, 1);
      if (directReclaim(this, nodes, -1) === 0) break;
      n = this.pickNode(nodes, memcg);
    }
    if (n < 0) {
      this.cgroups.uncharge(memcg, 1);
      return -1;
    }
    const p = fr.takeFree(n);
    fr.setFlags(p, PF_KERNEL);
    fr.setRmap(p, memcg);
    this.cgroups.kernelPages[memcg * this.nodes + n]++;
    this.cgroups.nodePages[memcg * this.nodes + n]++;
    return n;
  }

  // ---------------------------------------------------------------- migration

  /**
   * Moves user page `p` to a free frame of `dst` (chosen by the caller with pickNode or its own rule), keeping its
   * owner, charge and flags; the new page goes to the head of its LRU list, as
   * folio_putback_lru does. `keepFlags` masks which PF_ bits survive. Returns the new pfn.
   */
  migratePage(p: number, dst: number, keepFlags: number, reason: number, keepPte = PTE_DIRTY): number {
    const fr = this.frames;
    const g = fr.rmapOf(p);
    const as = this.spaceOf(g);
    const src = fr.nodeOf(p);
    const f = fr.flagsOf(p) & keepFlags;
    // folio_migrate_flags(): last_cpupid moves with the page, except in memory-tiering mode
    // between a top-tier and a slow node, where it is reset: on the slow side it holds a scan time.
    const crossesTiers = this.toptier[src] !== this.toptier[dst];
    const stamp =
      crossesTiers && (this.numaBalancing & NUMA_BALANCING_MEMORY_TIERING) !== 0
        ? DEFAULT_CPUPID_LAYOUT.CPUPID_UNSET
        : fr.stampOf(p);
    fr.remove(fr.listId(as.memcg, src, lruOfFlags(fr.flagsOf(p))), p);
    const q = fr.takeFree(dst);
    fr.setFlags(q, f);
    fr.setRmap(q, g);
    fr.setStamp(q, stamp);
    fr.addHead(fr.listId(as.memcg, dst, lruOfFlags(f)), q);
    this.pt[g] = q | (this.pt[g] & keepPte);
    as.rssByNode[src]--;
    as.rssByNode[dst]++;
    const cg = this.cgroups.nodePages;
    cg[as.memcg * this.nodes + src]--;
    cg[as.memcg * this.nodes + dst]++;
    fr.setRmap(p, -1);
    fr.putFree(p);
    this.ledger.record(
      as.id,
      g,
      src,
      dst,
      this.topo.nodes[src].tier,
      this.topo.nodes[dst].tier,
      reason,
      Math.floor(this.now / 1e6),
    );
    this.onMigrate(src, dst);
    return q;
  }

  /** Test/diagnostic: full consistency check of frames, page tables and counters. */
  verify(): string | null {
    const fr = this.frames;
    const bad = fr.verify((p) => this.spaceOf(fr.rmapOf(p)).memcg);
    if (bad) return bad;
    const nodePages = new Float64Array(this.cgroups.count * this.nodes);
    const rss = this.spaces.map(() => new Float64Array(this.nodes));
    let swap = 0;
    const swapOwn = new Float64Array(this.cgroups.count);
    for (const as of this.spaces) {
      for (let v = 0; v < as.pages; v++) {
        const e = this.pt[as.base + v];
        const pte = e & PTE_PFN_MASK;
        if (e >= 0) {
          if (fr.rmapOf(pte) !== as.base + v)
            return `pte of ${as.name}:${v} -> pfn ${pte} whose rmap is ${fr.rmapOf(pte)}`;
          if (!as.alive) return `killed ${as.name} still maps pfn ${pte}`;
          rss[as.id][fr.nodeOf(pte)]++;
          nodePages[as.memcg * this.nodes + fr.nodeOf(pte)]++;
          const isFile = v >= as.anonPages;
          if (((fr.flagsOf(pte) & PF_FILE) !== 0) !== isFile)
            return `pfn ${pte} file flag disagrees with its mapping`;
        } else if (e === PTE_SWAP) {
          swap++;
          swapOwn[as.memcg]++;
        }
      }
    }
    for (let p = 0; p < fr.totalFrames; p++) {
      if ((fr.flagsOf(p) & PF_KERNEL) !== 0) nodePages[fr.rmapOf(p) * this.nodes + fr.nodeOf(p)]++;
      else if (
        fr.rmapOf(p) >= 0 &&
        (this.pt[fr.rmapOf(p)] < 0 || (this.pt[fr.rmapOf(p)] & PTE_PFN_MASK) !== p)
      ) {
        return `pfn ${p} rmap ${fr.rmapOf(p)} not mapped back`;
      }
    }
    if (swap !== this.swapUsed) return `swapUsed ${this.swapUsed} != ${swap} swap PTEs`;
    if (this.swapUsed > this.swapPages) return `swap overcommitted`;
    for (const as of this.spaces) {
      for (let n = 0; n < this.nodes; n++) {
        if (rss[as.id][n] !== as.rssByNode[n])
          return `${as.name} rss on node ${n}: ${as.rssByNode[n]} != ${rss[as.id][n]}`;
      }
    }
    for (let i = 0; i < nodePages.length; i++) {
      if (nodePages[i] !== this.cgroups.nodePages[i])
        return `memcg/node pages [${i}] ${this.cgroups.nodePages[i]} != ${nodePages[i]}`;
    }
    // memory.current is hierarchical: own pages plus every descendant's.
    for (let c = this.cgroups.count - 1; c >= 0; c--) {
      let own = 0;
      for (let n = 0; n < this.nodes; n++) own += nodePages[c * this.nodes + n];
      let sub = own;
      for (const ch of this.cgroups.children[c]) sub += this.cgroups.usage[ch];
      if (sub !== this.cgroups.usage[c])
        return `memory.current of ${this.cgroups.paths[c]} ${this.cgroups.usage[c]} != ${sub}`;
      let swapSub = swapOwn[c];
      for (const ch of this.cgroups.children[c]) swapSub += this.cgroups.swapUsage[ch];
      if (swapSub !== this.cgroups.swapUsage[c])
        return `memory.swap.current of ${this.cgroups.paths[c]} ${this.cgroups.swapUsage[c]} != ${swapSub}`;
      if (this.cgroups.swapUsage[c] > this.cgroups.swapMax[c])
        return `memory.swap.max of ${this.cgroups.paths[c]} exceeded`;
      if (
        this.cgroups.peak[c] < this.cgroups.usage[c] ||
        this.cgroups.swapPeak[c] < this.cgroups.swapUsage[c]
      )
        return `memory.peak of ${this.cgroups.paths[c]} below its current usage`;
    }
    return null;
  }
}
