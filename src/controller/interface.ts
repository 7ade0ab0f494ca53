/**
 * What a user-space tiering controller (idea S12) may read and do on a Linux host — only what a
 * real host offers to a privileged process — so that the same controller (controller.ts) runs
 * on the simulated host (sim-backend.ts) and on a real one (a backend reading a /sys, /proc and
 * cgroupfs tree: the same files, so it can be tested against a fixture tree). Each method names
 * the file or system call it stands for; cgroup files are handed over as their text, parsed by
 * the controller as a real one parses them. Pages are 4 KiB virtual page numbers of the process
 * (address >> 12); node numbers are the kernel's node ids. Batches are typed arrays the caller
 * owns, so a period allocates nothing per page. test/controller-backend-contract.test.ts is the
 * contract every backend passes.
 */

/** Time, injected: the simulator's clock, or clock_gettime(CLOCK_MONOTONIC) on a real host. */
export interface Clock {
  /** Monotonic time in ms. */
  nowMs(): number;
}

/** errno values move_pages(2) reports per page (include/uapi/asm-generic/errno-base.h). */
export const ENOENT = 2;
/** No such process: for the whole call, also when a real backend finds the pid reused or gone. */
export const ESRCH = 3;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const ENODEV = 19;

/** /sys/devices/virtual/memory_tiering/memory_tierN: a tier id and its nodelist. */
export interface MemoryTierInfo {
  id: number;
  nodes: number[];
}

/** One virtual memory area of a process, as /proc/PID/smaps lists it. */
export interface MappingInfo {
  startPage: number;
  pages: number;
  /**
   * The tenant asked for these pages to be in fast memory (an madvise hint). No upstream VmFlags
   * letter exists — MADV_HOT was never merged — so a real backend reports false until one does.
   */
  fastHint: boolean;
}

/**
 * How "accessed since I last looked" is observed: the page_idle bitmap (per frame; reading
 * checks and clears the accessed bits), soft-dirty bits (pagemap bit 55, set on write, cleared
 * for a whole process by writing 4 to /proc/PID/clear_refs), or DAMON's monitoring of each
 * process's virtual address space (per region, sampled: a region is idle if DAMON saw none of
 * its samples accessed in its last aggregation interval). Soft-dirty sees writes only: a page
 * that is only read looks idle. Kernels built without CONFIG_IDLE_PAGE_TRACKING (Debian's) have
 * only the last two.
 */
export type AccessTracking = 'page_idle' | 'soft_dirty' | 'damon_vaddr';

export interface TieringBackend {
  /** Which of the two trackers the controller is to use with this backend. */
  accessTracking(): AccessTracking;
  /** The memory tiers, fastest first. */
  memoryTiers(): MemoryTierInfo[];
  /** Nodes with CPUs: /sys/devices/system/node/has_cpu. */
  cpuNodes(): number[];
  /** SLIT distance: /sys/devices/system/node/nodeA/distance, column b. */
  nodeDistance(a: number, b: number): number;
  /** Paths of every cgroup, parents before children ("/", "/vms", "/vms/web", …). */
  cgroups(): string[];
  /**
   * The text of a cgroupfs file: memory.current, memory.numa_stat (per node: "anon N0=… N1=…",
   * bytes), memory.tier_ratio, cgroup.procs. Throws if the file does not exist.
   */
  readCgroupFile(cgroup: string, file: string): string;
  /** The VMAs of a process (/proc/PID/smaps), in address order. */
  mappings(pid: number): MappingInfo[];
  /** The memory policy of a process's mapping as /proc/PID/numa_maps prints it ("default", "bind:0-1"). */
  numaMapsPolicy(pid: number): string;
  /**
   * /proc/PID/pagemap (with CAP_SYS_ADMIN): for pages [start, start + count), the page frame
   * number of each present page, or -1. Fills `pfns[0..count)`. A present page reads frame 0
   * without CAP_SYS_ADMIN: still present. With `softDirty`, also fills softDirty[0..count) with
   * bit 55 (1: written since the last clear_refs, or never cleared).
   */
  pagemap(pid: number, start: number, count: number, pfns: Float64Array, softDirty?: Uint8Array): void;
  /**
   * Writes 4 to /proc/PID/clear_refs: clears the soft-dirty bits of every page of the process.
   * Only for backends whose accessTracking() is 'soft_dirty'.
   */
  clearSoftDirty(pid: number): void;
  /**
   * damon_vaddr only: makes `pids` DAMON's monitoring targets (vaddr operations) when they
   * changed, and takes what it saw: each target's regions and their access counts, as of the
   * last aggregation interval (the `tried_regions` of a `stat` scheme).
   */
  damonSnapshot(pids: number[]): void;
  /** damon_vaddr only: whether the last snapshot covered `pid` (else it knows nothing of it). */
  damonWatched(pid: number): boolean;
  /**
   * damon_vaddr only: idle[i] = 1 if page start + i lay in a region DAMON saw unaccessed at the
   * last snapshot, or in none of its regions; 0 if in a region it saw accessed.
   */
  damonIdle(pid: number, start: number, count: number, idle: Uint8Array): void;
  /**
   * Reads /sys/kernel/mm/page_idle/bitmap for `count` frames: idle[i] = 1 if frame pfns[i] has not
   * been accessed since it was marked idle (a frame never marked reads 0). Reading checks and
   * clears the accessed bits of the frame's mappings, as the kernel's read does.
   */
  pageIdleRead(pfns: Float64Array, count: number, idle: Uint8Array): void;
  /** Writes 1 bits to the page_idle bitmap: marks the frames idle and clears their accessed bits. */
  pageIdleMark(pfns: Float64Array, count: number): void;
  /**
   * move_pages(2) on `count` pages of `pid`. With `nodes` null it only queries: status[i] is the
   * node of the page or -errno (-ENOENT: not present) and the result is 0. Otherwise page i moves
   * to nodes[i] and status[i] is the node it is on afterwards or -errno (-ENOENT, -ENOMEM: no room
   * on that node). The result is 0, the number of pages not moved, or -errno for the whole call:
   * -EACCES (a node outside the process's cpuset) or -ENODEV (not a memory node) — then the
   * pages before the offending one were moved and the later statuses are not written, as the
   * kernel's do_pages_move() stops there. -ESRCH: the process is gone (a real backend also
   * answers it, moving nothing, when the pid now belongs to another process or cgroup).
   */
  movePages(
    pid: number,
    pages: Float64Array,
    count: number,
    nodes: Int32Array | null,
    status: Int32Array,
  ): number;
}
