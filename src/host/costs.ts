/**
 * Fixed costs of kernel work, in ns, charged to whoever pays for it in Linux: the faulting
 * task for page faults, direct reclaim and hint faults; kswapd's own clock for background
 * reclaim. Defaults and their sources are documented in docs/cost-model.md.
 */
export interface KernelCosts {
  /** Anonymous first-touch fault: trap, page zeroing, PTE install. */
  minorFaultNs: number;
  /** Swap-in of one 4 KiB page from the swap device (major fault). */
  swapInNs: number;
  /** Writing one page to swap (paid by the reclaimer). */
  swapOutNs: number;
  /** Reading one 4 KiB file page from storage (page-cache miss). */
  fileReadNs: number;
  /** Writing back one dirty file page before it can be dropped. */
  fileWritebackNs: number;
  /** Migrating one mapped 4 KiB page on its own: unmap, TLB shootdown, copy, remap. */
  migratePageNs: number;
  /**
   * Demoting one 4 KiB page in reclaim: shrink_folio_list() collects the demotion candidates
   * and demote_folio_list() hands the batch to migrate_pages(), which unmaps the whole batch
   * and flushes the TLB once for it (batched flushing, 2023): no shootdown per page.
   */
  demotePageNs: number;
  /** Reclaim scanning cost per page looked at (rmap walk, reference check). */
  scanPageNs: number;
  /** A NUMA hinting fault (trap and handling) without migration. */
  hintFaultNs: number;
  /** The NUMA scanner's cost per PTE it makes PROT_NONE (paid by the scanned task). */
  numaScanPteNs: number;
}

export const DEFAULT_KERNEL_COSTS: KernelCosts = {
  minorFaultNs: 1_000,
  swapInNs: 50_000,
  swapOutNs: 20_000,
  fileReadNs: 50_000,
  fileWritebackNs: 20_000,
  migratePageNs: 6_000,
  demotePageNs: 1_000,
  scanPageNs: 150,
  hintFaultNs: 1_500,
  numaScanPteNs: 50,
};
