/**
 * NUMA-balancing constants and tunables with their kernel names and defaults.
 *
 * Kernel source: torvalds/linux kernel/sched/fair.c (sysctl_numa_balancing_* definitions,
 * MAX_SCAN_WINDOW, NUMA_PERIOD_SLOTS, NUMA_PERIOD_THRESHOLD, NUMA_MIGRATION_ADJUST_STEPS,
 * ACTIVE_NODE_FRACTION), include/linux/sched/sysctl.h (NUMA_BALANCING_* mode bits),
 * include/linux/numa.h.
 */

/** kernel.numa_balancing bits. */
export const NUMA_BALANCING_DISABLED = 0;
export const NUMA_BALANCING_NORMAL = 1;
export const NUMA_BALANCING_MEMORY_TIERING = 2;

export const MSEC_PER_SEC = 1000;
/** x86-64: 4 KiB pages. */
export const PAGE_SHIFT = 12;
export const NUMA_NO_NODE = -1;

/** debugfs numa_balancing/scan_delay_ms: wait before the first scan of a new task (ms). */
export const sysctl_numa_balancing_scan_delay = 1000;
/** debugfs numa_balancing/scan_period_min_ms (ms). */
export const sysctl_numa_balancing_scan_period_min = 1000;
/** debugfs numa_balancing/scan_period_max_ms (ms); also the hot-threshold adjustment period. */
export const sysctl_numa_balancing_scan_period_max = 60000;
/** debugfs numa_balancing/scan_size_mb (MB scanned per pass). */
export const sysctl_numa_balancing_scan_size = 256;
/** debugfs numa_balancing/hot_threshold_ms: hint-fault latency below which a page is hot (ms). */
export const sysctl_numa_balancing_hot_threshold = MSEC_PER_SEC;
/** sysctl kernel.numa_balancing_promote_rate_limit_MBps: per-node promotion budget (MB/s). */
export const sysctl_numa_balancing_promote_rate_limit = 65536;

/** Never scan more than this many MB of PTEs per second. */
export const MAX_SCAN_WINDOW = 2560;
export const NUMA_PERIOD_SLOTS = 10;
export const NUMA_PERIOD_THRESHOLD = 7;
/** The hot threshold moves in steps of 2·ref_th/16 within [unit_th, 2·ref_th]. */
export const NUMA_MIGRATION_ADJUST_STEPS = 16;
/** A node with more than 1/3 of the group's max CPU faults is "active". */
export const ACTIVE_NODE_FRACTION = 3;

/** The NUMA-balancing tunables, named after the kernel variables without the prefix. */
export interface NumaBalancingTunables {
  /** ms */
  readonly scan_delay: number;
  /** ms */
  readonly scan_period_min: number;
  /** ms */
  readonly scan_period_max: number;
  /** MB */
  readonly scan_size: number;
  /** ms */
  readonly hot_threshold: number;
  /** MB/s */
  readonly promote_rate_limit: number;
}

export const NUMA_BALANCING_DEFAULTS: NumaBalancingTunables = Object.freeze({
  scan_delay: sysctl_numa_balancing_scan_delay,
  scan_period_min: sysctl_numa_balancing_scan_period_min,
  scan_period_max: sysctl_numa_balancing_scan_period_max,
  scan_size: sysctl_numa_balancing_scan_size,
  hot_threshold: sysctl_numa_balancing_hot_threshold,
  promote_rate_limit: sysctl_numa_balancing_promote_rate_limit,
});

/** should_numa_migrate_memory(): promote_rate_limit MB/s → pages/s (<< (20 - PAGE_SHIFT)). */
export function rateLimitPages(rateLimitMBps: number): number {
  return rateLimitMBps * 2 ** (20 - PAGE_SHIFT);
}
