/**
 * Kernel work a task pays for, by kind. The engine adds every kernel cost to TaskStats.kernelNs;
 * the sites that produce one also add it to the address space's `kernelNsBy[kind]`, so a
 * tenant's kernel time can be read apart (time split of `numatier sla`, summary.json). These
 * sites are faults, hint faults and periodic actors, never the per-access fast path.
 */
export const KERNEL_WORK = [
  /** First-touch (minor) fault handling: trap, zeroing, PTE install. */
  'page_faults',
  /** Major faults reading the page back from swap. */
  'swap_in',
  /** Major faults reading a file page from storage. */
  'file_read',
  /** Direct, memcg and memory.high reclaim done in the task's context: scanning, swap-out, writeback, demotion. */
  'reclaim',
  /** Sleeps imposed by memory.high throttling. */
  'memory_high_throttle',
  /** NUMA hint-fault traps, whether or not the page moves. */
  'hint_faults',
  /** Pages moved by hint faults (promotions, locality migrations). */
  'hint_migrations',
  /** The NUMA scanner's PTE updates, run in the task's context. */
  'numa_scan',
  /** Ratio enforcement charged to the task: exchanges at promotion, rebalancing, user-space moves, madvise. */
  'tier_control',
] as const;
export type KernelWork = (typeof KERNEL_WORK)[number];

/** Index of each kind in `AddressSpace.kernelNsBy`. */
export const KW = Object.fromEntries(KERNEL_WORK.map((k, i) => [k, i])) as {
  readonly [K in KernelWork]: number;
};
