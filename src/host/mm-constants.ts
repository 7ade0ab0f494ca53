/**
 * The kernel's reclaim constants, named once (include/linux/swap.h, mm/internal.h,
 * include/linux/mmzone.h).
 */

/** SWAP_CLUSTER_MAX: reclaim's batch, and the least a reclaim call aims for, in pages. */
export const SWAP_CLUSTER_MAX = 32;

/** DEF_PRIORITY: reclaim starts scanning lru_size >> 12 and doubles at each lower priority. */
export const DEF_PRIORITY = 12;

/**
 * MAX_RECLAIM_RETRIES: how many reclaim attempts without progress the page allocator, memcg
 * charging, memory.high handling and kswapd (kswapd_failures) make before giving up.
 */
export const MAX_RECLAIM_RETRIES = 16;
