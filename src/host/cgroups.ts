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
  /** memory.current in pages, hierarchical. */
  readonly usage: Float64Array;
  /** Pages charged to this group itself (not descendants), per node: [memcg * nodes + node]. */
  readonly nodePages: Float64Array;
  /** Unmovable kernel pages charged to this group itself, per node. */
  readonly kernelPages: Float64Array;
  readonly events: Float64Array;
  readonly nodes: number;

  /** `specs` must list every group after its parent; the root "/" is added if absent. */
  constructor(specs: readonly CgroupSpec[], nodes: number) {
    this.nodes = nodes;
    const all: CgroupSpec[] = [];
    if (!specs.some((s) => s.path === '/')) {
      all.push({ path: '/', memoryMax: Infinity, memoryHigh: Infinity, memoryLow: 0 });
    }
    all.push(...specs);
    const n = all.length;
    this.memoryMax = new Float64Array(n);
    this.memoryHigh = new Float64Array(n);
    this.memoryLow = new Float64Array(n);
    this.usage = new Float64Array(n);
    this.nodePages = new Float64Array(n * nodes);
    this.kernelPages = new Float64Array(n * nodes);
    this.events = new Float64Array(n * MEMORY_EVENTS.length);
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
    for (let c = memcg; c >= 0; c = this.parent[c]) this.usage[c] += nr;
    return -1;
  }

  uncharge(memcg: number, nr: number): void {
    for (let c = memcg; c >= 0; c = this.parent[c]) this.usage[c] -= nr;
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
   * Whether reclaim should skip `memcg` because memory.low protects it. Simplified effective
   * protection: a group is protected while its usage is at or below its own memory.low and
   * every ancestor's usage is at or below that ancestor's memory.low or the ancestor sets none.
   */
  isProtected(memcg: number): boolean {
    let any = false;
    for (let c = memcg; c > 0; c = this.parent[c]) {
      if (this.memoryLow[c] > 0) {
        if (this.usage[c] > this.memoryLow[c]) return false;
        any = true;
      }
    }
    return any;
  }

  event(memcg: number, e: MemoryEvent): void {
    this.events[memcg * MEMORY_EVENTS.length + MEMORY_EVENTS.indexOf(e)]++;
  }

  eventCount(memcg: number, e: MemoryEvent): number {
    return this.events[memcg * MEMORY_EVENTS.length + MEMORY_EVENTS.indexOf(e)];
  }
}
