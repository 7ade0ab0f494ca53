/**
 * A cgroup v2 memory-controller tree. Charges are hierarchical (a page charged to a group is
 * charged to every ancestor, as page_counter does), limits are in pages (Infinity = "max"),
 * and usage is also kept per node for each group's own pages (idea S8), so that
 * memory.numa_stat is exact without walking frames.
 */
export interface CgroupSpec {
  path: string;
  memoryMax: number;
  memoryHigh: number;
  memoryLow: number;
  /** memory.min in pages (default 0). */
  memoryMin?: number;
  /** memory.swap.max in pages (default Infinity, "max"). */
  swapMax?: number;
}

/**
 * effective_protection() of mm/page_counter.c: the part of a group's memory.min or memory.low
 * (`setting`) that holds, given its parent's effective value and the protected usage of all
 * the parent's children (Σ min(usage, setting), the kernel's children_low_usage). When the
 * children claim and use more than the parent affords, the parent's share is split in
 * proportion to each child's protected usage; otherwise each keeps min(usage, setting), and
 * with memory_recursiveprot the parent's unclaimed share goes to the children in proportion
 * to their unprotected usage. All values in pages; the kernel's integer division is kept.
 */
export function effectiveProtection(
  usage: number,
  parentUsage: number,
  setting: number,
  parentEffective: number,
  siblingsProtected: number,
  recursiveProtection: boolean,
): number {
  const protectedUsage = Math.min(usage, setting);
  if (siblingsProtected > parentEffective) {
    return Math.floor((protectedUsage * parentEffective) / siblingsProtected);
  }
  let ep = protectedUsage;
  if (!recursiveProtection) return ep;
  if (parentEffective > siblingsProtected && parentUsage > siblingsProtected && usage > protectedUsage) {
    ep += Math.floor(
      ((parentEffective - siblingsProtected) * (usage - protectedUsage)) / (parentUsage - siblingsProtected),
    );
  }
  return ep;
}

export const MEMORY_EVENTS = ['low', 'high', 'max', 'oom', 'oom_kill'] as const;
export type MemoryEvent = (typeof MEMORY_EVENTS)[number];

export class CgroupTree {
  readonly paths: string[] = [];
  readonly parent: number[] = [];
  readonly children: number[][] = [];
  readonly memoryMax: Float64Array;
  readonly memoryHigh: Float64Array;
  readonly memoryLow: Float64Array;
  readonly memoryMin: Float64Array;
  /** memory.swap.max and memory.swap.current (hierarchical), in pages. */
  readonly swapMax: Float64Array;
  readonly swapUsage: Float64Array;
  /** memory.peak and memory.swap.peak: the highest usage since the group was created, in pages. */
  readonly peak: Float64Array;
  readonly swapPeak: Float64Array;
  /**
   * Effective memory.min and memory.low (the kernel's emin, elow), recomputed by
   * calculateProtection() as reclaim visits each group; like the kernel's, a value is left as
   * it was while the group is empty or is the reclaim's target.
   */
  readonly emin: Float64Array;
  readonly elow: Float64Array;
  /** The cgroup2 mount option memory_recursiveprot. */
  readonly recursiveProt: boolean;
  /** memory.current in pages, hierarchical. */
  readonly usage: Float64Array;
  /** Pages charged to this group itself (not descendants), per node: [memcg * nodes + node]. */
  readonly nodePages: Float64Array;
  /** Unmovable kernel pages charged to this group itself, per node. */
  readonly kernelPages: Float64Array;
  readonly events: Float64Array;
  readonly nodes: number;
  /**
   * Per reclaim target and node ([memcg * nodes + node]): where the last partial reclaim walk
   * stopped, as an index into subtree(memcg), or -1 to start at the target (the per-node
   * `iter.position` of mem_cgroup_iter's reclaim cookie).
   */
  readonly reclaimPosition: Int32Array;
  /**
   * propagate_protected_usage()'s running sums (mm/page_counter.c): per group, its own protected
   * usage min(usage, memory.min) and min(usage, memory.low) (min_usage, low_usage), and the sum
   * of its children's (children_min_usage, children_low_usage), updated on every charge,
   * uncharge and protection change, so that calculateProtection() needs no walk of the siblings.
   * Pages are whole numbers, so the sums are exact whatever the order of the updates.
   */
  readonly minUsage: Float64Array;
  readonly lowUsage: Float64Array;
  readonly childrenMinUsage: Float64Array;
  readonly childrenLowUsage: Float64Array;

  /** `specs` must list every group after its parent; the root "/" is added if absent. */
  constructor(specs: readonly CgroupSpec[], nodes: number, recursiveProt = false) {
    this.nodes = nodes;
    this.recursiveProt = recursiveProt;
    const all: CgroupSpec[] = [];
    if (!specs.some((s) => s.path === '/')) {
      all.push({ path: '/', memoryMax: Infinity, memoryHigh: Infinity, memoryLow: 0 });
    }
    all.push(...specs);
    const n = all.length;
    this.memoryMax = new Float64Array(n);
    this.memoryHigh = new Float64Array(n);
    this.memoryLow = new Float64Array(n);
    this.memoryMin = new Float64Array(n);
    this.swapMax = new Float64Array(n);
    this.swapUsage = new Float64Array(n);
    this.peak = new Float64Array(n);
    this.swapPeak = new Float64Array(n);
    this.emin = new Float64Array(n);
    this.elow = new Float64Array(n);
    this.usage = new Float64Array(n);
    this.nodePages = new Float64Array(n * nodes);
    this.kernelPages = new Float64Array(n * nodes);
    this.events = new Float64Array(n * MEMORY_EVENTS.length);
    this.reclaimPosition = new Int32Array(n * nodes).fill(-1);
    this.minUsage = new Float64Array(n);
    this.lowUsage = new Float64Array(n);
    this.childrenMinUsage = new Float64Array(n);
    this.childrenLowUsage = new Float64Array(n);
    const index = new Map<string, number>();
    all.forEach((s, i) => {
      const parentPath = s.path === '/' ? null : s.path.slice(0, s.path.lastIndexOf('/')) || '/';
      const p = parentPath === null ? -1 : index.get(parentPath);
      if (p === undefined) throw new Error(`cgroup ${s.path} listed before its parent ${parentPath}`);
      index.set(s.path, i);
      this.paths.push(s.path);
      this.parent.push(p);
      this.children.push([]);
      if (p >= 0) this.children[p].push(i);
      this.memoryMax[i] = s.memoryMax;
      this.memoryHigh[i] = s.memoryHigh;
      this.memoryLow[i] = s.memoryLow;
      this.memoryMin[i] = s.memoryMin ?? 0;
      this.swapMax[i] = s.swapMax ?? Infinity;
    });
    this.index = index;
  }

  private readonly index: Map<string, number>;

  get count(): number {
    return this.paths.length;
  }

  idOf(path: string): number | undefined {
    return this.index.get(path);
  }

  /**
   * Charges `nr` pages to `memcg` and its ancestors if no limit would be exceeded. Returns -1 on
   * success, else the id of the first group (walking up) whose memory.max would be exceeded —
   * the group whose subtree must be reclaimed, as try_charge's mem_over_limit.
   */
  tryCharge(memcg: number, nr: number): number {
    for (let c = memcg; c >= 0; c = this.parent[c]) {
      if (this.usage[c] + nr > this.memoryMax[c]) return c;
    }
    for (let c = memcg; c >= 0; c = this.parent[c]) {
      this.usage[c] += nr;
      if (this.usage[c] > this.peak[c]) this.peak[c] = this.usage[c];
      this.propagateProtectedUsage(c);
    }
    return -1;
  }

  uncharge(memcg: number, nr: number): void {
    for (let c = memcg; c >= 0; c = this.parent[c]) {
      this.usage[c] -= nr;
      this.propagateProtectedUsage(c);
    }
  }

  /**
   * propagate_protected_usage(): brings group `c`'s protected usage up to date with its usage
   * and settings, and its parent's sums with it. The root has no parent to tell.
   */
  private propagateProtectedUsage(c: number): void {
    const parent = this.parent[c];
    if (parent < 0) return;
    const usage = this.usage[c];
    const min = Math.min(usage, this.memoryMin[c]);
    if (min !== this.minUsage[c]) {
      this.childrenMinUsage[parent] += min - this.minUsage[c];
      this.minUsage[c] = min;
    }
    const low = Math.min(usage, this.memoryLow[c]);
    if (low !== this.lowUsage[c]) {
      this.childrenLowUsage[parent] += low - this.lowUsage[c];
      this.lowUsage[c] = low;
    }
  }

  /** Writes memory.min and memory.low of `memcg` (page_counter_set_min / _set_low), in pages. */
  setProtection(memcg: number, min: number, low: number): void {
    this.memoryMin[memcg] = min;
    this.memoryLow[memcg] = low;
    this.propagateProtectedUsage(memcg);
  }

  /**
   * mem_cgroup_get_nr_swap_pages() without the global part: the swap pages `memcg` may still
   * use under its own and its ancestors' memory.swap.max.
   */
  swapRoom(memcg: number): number {
    let room = Infinity;
    for (let c = memcg; c > 0; c = this.parent[c]) room = Math.min(room, this.swapMax[c] - this.swapUsage[c]);
    return room;
  }

  /** Charges one swap page to `memcg` and its ancestors (the caller checked swapRoom). */
  chargeSwap(memcg: number): void {
    for (let c = memcg; c >= 0; c = this.parent[c]) {
      this.swapUsage[c]++;
      if (this.swapUsage[c] > this.swapPeak[c]) this.swapPeak[c] = this.swapUsage[c];
    }
  }

  unchargeSwap(memcg: number): void {
    for (let c = memcg; c >= 0; c = this.parent[c]) this.swapUsage[c]--;
  }

  /** The deepest ancestor-or-self over memory.high, or -1. */
  overHigh(memcg: number): number {
    for (let c = memcg; c >= 0; c = this.parent[c]) {
      if (this.usage[c] > this.memoryHigh[c]) return c;
    }
    return -1;
  }

  /** True if `memcg` is `ancestor` or below it. */
  isDescendant(memcg: number, ancestor: number): boolean {
    for (let c = memcg; c >= 0; c = this.parent[c]) if (c === ancestor) return true;
    return false;
  }

  private readonly subtrees: (readonly number[] | undefined)[] = [];

  /** Groups in the subtree rooted at `root`, root first (pre-order, deterministic). */
  subtree(root: number): readonly number[] {
    // The tree never changes after construction; reclaim asks for subtrees on every pass.
    const cached = this.subtrees[root];
    if (cached !== undefined) return cached;
    const out: number[] = [];
    const stack = [root];
    while (stack.length > 0) {
      const c = stack.pop() as number;
      out.push(c);
      for (let i = this.children[c].length - 1; i >= 0; i--) stack.push(this.children[c][i]);
    }
    this.subtrees[root] = out;
    return out;
  }

  /**
   * page_counter_calculate_protection(): updates emin and elow of `memcg` for a reclaim whose
   * target is `root` (0 for global reclaim). Call it for each group in pre-order, so that a
   * parent's values are fresh when its children use them, as shrink_node_memcgs() does.
   */
  calculateProtection(root: number, memcg: number): void {
    if (memcg === root) return; // the target's own values are ignored, so they may be stale
    const usage = this.usage[memcg];
    if (usage === 0) return;
    const parent = this.parent[memcg];
    if (parent === root) {
      this.emin[memcg] = this.memoryMin[memcg];
      this.elow[memcg] = this.memoryLow[memcg];
      return;
    }
    const parentUsage = this.usage[parent];
    const minUsage = this.childrenMinUsage[parent];
    const lowUsage = this.childrenLowUsage[parent];
    const rec = this.recursiveProt;
    this.emin[memcg] = effectiveProtection(
      usage,
      parentUsage,
      this.memoryMin[memcg],
      this.emin[parent],
      minUsage,
      rec,
    );
    this.elow[memcg] = effectiveProtection(
      usage,
      parentUsage,
      this.memoryLow[memcg],
      this.elow[parent],
      lowUsage,
      rec,
    );
  }

  /** mem_cgroup_unprotected(): the root group and the reclaim's target get no protection. */
  unprotected(target: number, memcg: number): boolean {
    return memcg === 0 || memcg === target;
  }

  /** mem_cgroup_below_min(): usage within the effective memory.min (hard protection). */
  belowMin(target: number, memcg: number): boolean {
    return !this.unprotected(target, memcg) && this.emin[memcg] >= this.usage[memcg];
  }

  /** mem_cgroup_below_low(): usage within the effective memory.low (best-effort protection). */
  belowLow(target: number, memcg: number): boolean {
    return !this.unprotected(target, memcg) && this.elow[memcg] >= this.usage[memcg];
  }

  event(memcg: number, e: MemoryEvent): void {
    this.events[memcg * MEMORY_EVENTS.length + MEMORY_EVENTS.indexOf(e)]++;
  }

  eventCount(memcg: number, e: MemoryEvent): number {
    return this.events[memcg * MEMORY_EVENTS.length + MEMORY_EVENTS.indexOf(e)];
  }
}
