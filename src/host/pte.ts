/** Page-table entry values below zero: not present, for a reason. */
export const PTE_NONE = -1; // never touched: zero-fill (anon) or read from storage (file)
export const PTE_FILE_SHADOW = -2; // file page evicted earlier: a refault
export const PTE_SWAP = -3; // anon page on the swap device

/** reclaimer_offset(): which pgscan_/pgsteal_/pgdemote_ counters a reclaim pass feeds. */
export const RECLAIM_KSWAPD = 0;
export const RECLAIM_DIRECT = 1;
export const RECLAIM_PROACTIVE = 2;
