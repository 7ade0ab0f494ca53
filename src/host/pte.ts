/** Page-table entry values below zero: not present, for a reason. */
export const PTE_NONE = -1; // never touched: zero-fill (anon) or read from storage (file)
export const PTE_FILE_SHADOW = -2; // file page evicted earlier: a refault
export const PTE_SWAP = -3; // anon page on the swap device

/** reclaimer_offset(): which pgscan_/pgsteal_/pgdemote_ counters a reclaim pass feeds. */
export const RECLAIM_KSWAPD = 0;
export const RECLAIM_DIRECT = 1;
export const RECLAIM_PROACTIVE = 2;

/**
 * A present page-table entry is a non-negative int32: the pfn in the low 28 bits and, above
 * it, the hardware-managed bits the kernel reads back — accessed (young) and dirty — plus
 * PROT_NONE, set by the NUMA-balancing scanner so the next access takes a hinting fault. The
 * per-access path then touches one word, as the MMU does; reclaim reads and clears the
 * accessed bit through the rmap (folio_referenced). 28 bits of pfn address 1 TiB of 4 KiB pages.
 */
export const PTE_PFN_MASK = (1 << 28) - 1;
export const PTE_YOUNG = 1 << 28;
export const PTE_DIRTY = 1 << 29;
export const PTE_PROTNONE = 1 << 30;
export const MAX_FRAMES = 1 << 28;
