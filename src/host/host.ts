import { AddressSpace, type AddressSpaceSpec } from './address-space.js';
import { CgroupTree, type CgroupSpec } from './cgroups.js';
import type { KernelCosts } from './costs.js';
import { FrameTable, PF_KERNEL } from './frames.js';
import type { HostTopology } from './host-topology.js';
import { Kswapd } from './kswapd.js';
import { chargePages } from './memcontrol.js';
import { freeUserPage, handleFault, mmAccountFault } from './memory.js';
import { migratePage } from './migrate.js';
import { MigrationLedger } from './migration-ledger.js';
import { DEFAULT_HOOKS, type ComposedHooks, type HostEvents } from './hooks.js';
import { killSpace, oomKill } from './oom.js';
import { allocUserFrame, pickNode } from './page-alloc.js';
import { PTE_DIRTY, PTE_NONE, PTE_PFN_MASK, PTE_YOUNG } from './pte.js';
import { ReclaimScratch } from './reclaim.js';
import { allocKernelPage, allocKernelPages } from './slab.js';
import { canSwap, swapOut } from './swap.js';
import { Vmstat } from './vmstat.js';
import type { DemotionPolicy, RandomSource } from '../policies/demotion/types.js';

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

export type { HostEvents } from './hooks.js';

/**
 * The simulated kernel's memory state: frames, page tables, LRU lists, cgroups, counters, and
 * a façade over the operations on them, each in the file of its kernel counterpart: the fault
 * path (memory.ts), the page allocator (page-alloc.ts), memcg charging and memory.high
 * (memcontrol.ts), swap (swap.ts), the OOM killer (oom.ts), slab (slab.ts), migration
 * (migrate.ts), reclaim (reclaim.ts) and kswapd (kswapd.ts). Time is the engine's: `now` (ns)
 * is set before the host is called.
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
  /** kswapd of every node: its state, wake-ups and passes. */
  readonly kswapd: Kswapd;
  /** Reclaim's scratch space (this host's own). */
  readonly reclaimScratch = new ReclaimScratch();
  /**
   * Cost accumulators of the fault path, one per function that sums the work of the calls it
   * makes (each zeroes its own before use): allocation-free ways for a callee to return a cost
   * beside its result.
   */
  readonly costAcc = {
    fault: new Float64Array(1),
    charge: new Float64Array(1),
    high: new Float64Array(1),
  };
  /**
   * Work done for the current user-page allocation by a placement hook (a tenant hint making
   * room), in ns: allocUserFrame() zeroes it before asking the placement and adds it to the
   * allocation's cost.
   */
  lastAllocCost = 0;
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
    this.kswapd = new Kswapd(this);

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

  // ---------------------------------------------------------------- hooks
  // What the engine and the policies install on the host: composed once from every
  // contributor's HostHookSet by installHooks() (host/hooks.ts), in the precedence order
  // declared there; readonly to everything else.
  hooksInstalled = false;

  /** The engine's notifications (the host never schedules anything itself). */
  readonly events: HostEvents = DEFAULT_HOOKS.events;

  /** Notified of every migration (the engine adds it to bandwidth contention). */
  readonly onMigrate: ComposedHooks['onMigrate'] = DEFAULT_HOOKS.onMigrate;

  /**
   * Reclaim consults this for every page it would reclaim or demote: true keeps the page on
   * its node (e.g. a tenant's fast-memory hint). `g` is the global virtual page.
   */
  readonly keepPage: ComposedHooks['keepPage'] = DEFAULT_HOOKS.keepPage;

  /**
   * NUMA-balancing promotion consults this before moving page `p` of `memcg` to `dst`: false
   * refuses the promotion; a gate may make room first (demote a colder page: an exchange).
   */
  readonly promotionGate: ComposedHooks['promotionGate'] = DEFAULT_HOOKS.promotionGate;

  /** Hook for ratio enforcement: may a page of `memcg` be placed on `node` now? */
  readonly nodeAllowed: ComposedHooks['nodeAllowed'] = DEFAULT_HOOKS.nodeAllowed;

  // ---------------------------------------------------------------- lookups

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

  /** Memory used per node by a memcg itself (user + kernel pages). */
  memcgNodePages(memcg: number, node: number): number {
    return this.cgroups.nodePages[memcg * this.nodes + node];
  }

  /** The migration ledger's hasLeft(), bound once for the demotion policies' allowPage(). */
  readonly hasLeft = (g: number, n: number): boolean => this.ledger.hasLeft(g, n);

  // ---------------------------------------------------------------- the façade
  // One line each: the code is in the file named.

  /** kswapd.ts: pgdat_balanced(). */
  nodeBalanced(node: number): boolean {
    return this.kswapd.balanced(node);
  }

  /** kswapd.ts: wakeup_kswapd(). */
  wakeKswapd(node: number): void {
    this.kswapd.wake(node);
  }

  /** kswapd.ts: whether each node's kswapd is awake. */
  get kswapdAwake(): Uint8Array {
    return this.kswapd.awake;
  }

  /** kswapd.ts: numatier's count of kswapd wake-ups per node. */
  get kswapdWakeups(): Float64Array {
    return this.kswapd.wakeups;
  }

  /** kswapd.ts: kswapd_failures per node. */
  get kswapdFailures(): Uint8Array {
    return this.kswapd.failures;
  }

  /** kswapd.ts: kswapd's scan priority per node. */
  get kswapdPriority(): Uint8Array {
    return this.kswapd.priority;
  }

  /** memory.ts: PGFAULT. */
  mmAccountFault(as: AddressSpace): void {
    mmAccountFault(this, as);
  }

  /** memory.ts: a fault on a non-present page; its cost in ns, or -1 if the task was killed. */
  fault(as: AddressSpace, vpn: number, isWrite: boolean): number {
    return handleFault(this, as, vpn, isWrite);
  }

  /** memory.ts: unmaps and frees a user page. */
  freeUserPage(p: number, pte: number): void {
    freeUserPage(this, p, pte);
  }

  /** page-alloc.ts: a user page's frame, or -1; the reclaim work is added to `cost[0]`. */
  allocUserFrame(as: AddressSpace, ilx: number, cost: Float64Array): number {
    return allocUserFrame(this, as, ilx, cost);
  }

  /** page-alloc.ts: the allocator's fast and slow paths without reclaim. */
  pickNode(nodes: ArrayLike<number>, memcg: number, demotedPage = -1): number {
    return pickNode(this, nodes, memcg, demotedPage);
  }

  /** memcontrol.ts: try_charge(); the cost in ns, or -1 if `as` was killed. */
  chargePages(as: AddressSpace, memcg: number, nr: number): number {
    return chargePages(this, as, memcg, nr);
  }

  /** swap.ts: is there swap room for `memcg`? */
  canSwap(memcg: number): boolean {
    return canSwap(this, memcg);
  }

  /** swap.ts: add_to_swap() and unmap. */
  swapOut(p: number): boolean {
    return swapOut(this, p);
  }

  /** oom.ts: the OOM killer. */
  oomKill(faulting: AddressSpace, scope: number, reason: 'memcg' | 'global'): AddressSpace | null {
    return oomKill(this, faulting, scope, reason);
  }

  /** oom.ts: exit_mmap(). */
  killSpace(as: AddressSpace): void {
    killSpace(this, as);
  }

  /** slab.ts: `nr` unmovable kernel pages; how many were placed. */
  allocKernelPages(memcg: number, nodes: Int32Array, nr: number): number {
    return allocKernelPages(this, memcg, nodes, nr);
  }

  /** slab.ts: one unmovable kernel page; the node it landed on, or -1. */
  allocKernelPage(memcg: number, nodes: Int32Array): number {
    return allocKernelPage(this, memcg, nodes);
  }

  /** migrate.ts: moves user page `p` to node `dst`; the new pfn. */
  migratePage(p: number, dst: number, keepFlags: number, reason: number, keepPte = PTE_DIRTY): number {
    return migratePage(this, p, dst, keepFlags, reason, keepPte);
  }
}
