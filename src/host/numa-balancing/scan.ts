/**
 * NUMA-balancing scan pacing: how often a task's address space is sampled with PROT_NONE.
 *
 * Kernel source: torvalds/linux kernel/sched/fair.c task_nr_scan_windows(), task_scan_min(),
 * task_scan_max(), task_scan_start(), update_task_scan_period() (the lr_ratio/ps_ratio version
 * upstream since 4.16, unchanged through 6.x). Integer arithmetic as in the kernel (32-bit
 * unsigned where the kernel uses unsigned int).
 */
import {
  MAX_SCAN_WINDOW,
  NUMA_BALANCING_DEFAULTS,
  NUMA_PERIOD_SLOTS,
  NUMA_PERIOD_THRESHOLD,
  type NumaBalancingTunables,
  PAGE_SHIFT,
} from './constants.js';

/** A task's numa_group as task_scan_max()/task_scan_start() see it. */
export interface NumaGroupShare {
  /** refcount_read(&ng->refcount): tasks in the group. */
  readonly refcount: number;
  /** group_faults_shared(ng) */
  readonly shared: number;
  /** group_faults_priv(ng) */
  readonly private: number;
}

/** The per-task scan state update_task_scan_period() reads and writes. */
export interface TaskScanState {
  /** p->numa_scan_period (ms). Starts at scan_delay. */
  numa_scan_period: number;
  /** p->numa_scan_period_max (ms), refreshed to task_scan_max() by task_numa_placement(). */
  numa_scan_period_max: number;
  /** p->numa_faults_locality[]: [remote, local, failed-migration] pages since the last update. */
  numa_faults_locality: [number, number, number];
}

const TWO32 = 2 ** 32;

/** round_up(x, y) of include/linux/math.h: ((x - 1) | (y - 1)) + 1, exact for y a power of 2. */
export function roundUpMask(x: number, y: number): number {
  const a = x - 1;
  const b = y - 1;
  const hi = (Math.floor(a / TWO32) | Math.floor(b / TWO32)) >>> 0;
  const lo = ((a >>> 0) | (b >>> 0)) >>> 0;
  return hi * TWO32 + lo + 1;
}

/**
 * task_nr_scan_windows(): how many scan_size passes cover the task's RSS (at least 1). The
 * kernel rounds with round_up(), a power-of-two mask; for a scan_size that is not a power of two
 * this is not a true ceiling, and that is reproduced.
 */
export function taskNrScanWindows(rssPages: number, scanSizeMB: number): number {
  const nrScanPages = (scanSizeMB * 2 ** (20 - PAGE_SHIFT)) >>> 0;
  const rss = rssPages > 0 ? rssPages : nrScanPages;
  return Math.floor(roundUpMask(rss, nrScanPages) / nrScanPages);
}

/** task_scan_min(): period_min spread over the windows, floored at 1000 ms / (2560 / scan_size). */
export function taskScanMin(rssPages: number, t: NumaBalancingTunables = NUMA_BALANCING_DEFAULTS): number {
  let windows = 1;
  if (t.scan_size < MAX_SCAN_WINDOW) windows = Math.floor(MAX_SCAN_WINDOW / t.scan_size);
  const floor = Math.floor(1000 / windows);
  const scan = Math.floor(t.scan_period_min / taskNrScanWindows(rssPages, t.scan_size));
  return Math.max(floor, scan);
}

/**
 * task_scan_max(): period_max spread over the windows; a task in a numa_group scans slower in
 * proportion to the group's size and share of shared faults. Never below task_scan_min().
 */
export function taskScanMax(
  rssPages: number,
  t: NumaBalancingTunables = NUMA_BALANCING_DEFAULTS,
  group: NumaGroupShare | null = null,
): number {
  const smin = taskScanMin(rssPages, t);
  let smax = Math.floor(t.scan_period_max / taskNrScanWindows(rssPages, t.scan_size));
  if (group) {
    const period = Math.floor(
      (smax * group.refcount * (group.shared + 1)) / (group.private + group.shared + 1),
    );
    smax = Math.max(smax, period);
  }
  return Math.max(smin, smax);
}

/** task_scan_start(): the first scan period, task_scan_min() scaled like task_scan_max(). */
export function taskScanStart(
  rssPages: number,
  t: NumaBalancingTunables = NUMA_BALANCING_DEFAULTS,
  group: NumaGroupShare | null = null,
): number {
  const smin = taskScanMin(rssPages, t);
  let period = smin;
  if (group)
    period = Math.floor((smin * group.refcount * (group.shared + 1)) / (group.private + group.shared + 1));
  return Math.max(smin, period);
}

/**
 * update_task_scan_period(): adapt p->numa_scan_period after a placement pass, given the
 * task's shared and private fault counts.
 * - No local or shared faults, or some migration failed: double the period (up to
 *   numa_scan_period_max); returns true, meaning mm->numa_next_scan must be set to
 *   now + the new period. numa_faults_locality is NOT cleared on this path (as in the kernel).
 * - Otherwise, with period_slot = ⌈period/10⌉, lr = 10·local/(local+remote),
 *   ps = 10·private/(private+shared): ps >= 7 → slow down by max(1, ps-7) slots; else lr >= 7 →
 *   slow down by max(1, lr-7) slots; else speed up by (7 - max(lr, ps)) slots; clamp to
 *   [scanMin, scanMax] and clear numa_faults_locality. Returns false.
 * `scanMin`/`scanMax` are task_scan_min(p)/task_scan_max(p). A zero divisor (impossible in
 * the kernel, whose locality and private/shared counts come from the same faults) counts as
 * ratio 0.
 */
export function updateTaskScanPeriod(
  p: TaskScanState,
  shared: number,
  priv: number,
  scanMin: number,
  scanMax: number,
): boolean {
  const [remote, local, failed] = p.numa_faults_locality;
  if (local + shared === 0 || failed) {
    p.numa_scan_period = Math.min(p.numa_scan_period_max, (p.numa_scan_period * 2) >>> 0);
    return true;
  }
  const periodSlot = Math.ceil(p.numa_scan_period / NUMA_PERIOD_SLOTS);
  const lrRatio = local + remote ? Math.floor((local * NUMA_PERIOD_SLOTS) / (local + remote)) : 0;
  const psRatio = priv + shared ? Math.floor((priv * NUMA_PERIOD_SLOTS) / (priv + shared)) : 0;
  let diff: number;
  if (psRatio >= NUMA_PERIOD_THRESHOLD) {
    diff = Math.max(1, psRatio - NUMA_PERIOD_THRESHOLD) * periodSlot;
  } else if (lrRatio >= NUMA_PERIOD_THRESHOLD) {
    diff = Math.max(1, lrRatio - NUMA_PERIOD_THRESHOLD) * periodSlot;
  } else {
    diff = -(NUMA_PERIOD_THRESHOLD - Math.max(lrRatio, psRatio)) * periodSlot;
  }
  // numa_scan_period is unsigned int: a sum below zero wraps and the clamp then yields scanMax.
  const sum = (p.numa_scan_period + diff) >>> 0;
  p.numa_scan_period = Math.min(Math.max(sum, scanMin), scanMax);
  p.numa_faults_locality[0] = 0;
  p.numa_faults_locality[1] = 0;
  p.numa_faults_locality[2] = 0;
  return false;
}
