/**
 * A task's (VM's or process's) virtual address space: a contiguous window of the host's global
 * page table. The first `anonPages` pages are private anonymous memory (guest RAM), the rest a
 * file mapping whose pages live in the page cache.
 */
import { KERNEL_WORK } from './kernel-work.js';

export interface PlacementCandidates {
  /** Nodes to try, in order (the policy's nodemask walked in zonelist order). */
  primary: Int32Array;
  /** preferred_many: the first pass over `primary` must not enter direct reclaim. */
  primaryNoDirectReclaim: boolean;
  /** A second pass (preferred_many falls back to every node), or null. */
  secondary: Int32Array | null;
  /**
   * The node an interleave policy chose for this fault (interleave_nid() /
   * weighted_interleave_nid()), where NUMA_INTERLEAVE_HIT is counted if the page lands on it;
   * -1 (NUMA_NO_NODE) for every other policy.
   */
  interleaveNid: number;
}

/** Where a fault at interleave index `ilx` (the virtual page number) may allocate. */
export interface Placement {
  candidates(ilx: number): PlacementCandidates;
}

export interface AddressSpaceSpec {
  name: string;
  memcg: number;
  /** Dense index of the node whose CPUs run this task. */
  cpuNode: number;
  pages: number;
  /** Trailing pages of the window that are file-backed (page cache). */
  filePages: number;
  placement: Placement;
  /** cpuset.mems of the task's cgroup (dense node indices), or null/absent for every node. */
  cpuset?: readonly number[] | null;
}

export class AddressSpace {
  readonly id: number;
  readonly name: string;
  readonly base: number;
  readonly pages: number;
  readonly anonPages: number;
  readonly memcg: number;
  readonly cpuNode: number;
  placement: Placement;
  /** Resident pages per node (dense index). */
  readonly rssByNode: Float64Array;
  /** Distinct pages faulted in at least once (first touches): the first pass is over at `pages`. */
  touchedPages = 0;
  alive = true;
  killedAtNs = -1;
  /** Pages charged while a group was over memory.high, not yet handled (memcg_nr_pages_over_high). */
  pagesOverHigh = 0;
  /** Time this task slept, throttled for memory.high (ns). */
  highThrottleNs = 0;
  /** Kernel time the task paid, by kind (KERNEL_WORK order), ns; its sum is TaskStats.kernelNs. */
  readonly kernelNsBy = new Float64Array(KERNEL_WORK.length);

  constructor(id: number, base: number, spec: AddressSpaceSpec, nodes: number) {
    this.id = id;
    this.name = spec.name;
    this.base = base;
    this.pages = spec.pages;
    this.anonPages = spec.pages - spec.filePages;
    this.memcg = spec.memcg;
    this.cpuNode = spec.cpuNode;
    this.placement = spec.placement;
    this.rssByNode = new Float64Array(nodes);
  }

  rss(): number {
    let s = 0;
    for (let i = 0; i < this.rssByNode.length; i++) s += this.rssByNode[i];
    return s;
  }
}
