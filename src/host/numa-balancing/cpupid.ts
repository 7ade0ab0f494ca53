/**
 * The per-page `last_cpupid` field: who touched the page last (classic NUMA balancing), or when
 * it was scanned (memory-tiering mode, slow-tier pages only).
 *
 * Kernel source: torvalds/linux include/linux/page-flags-layout.h (LAST__PID_SHIFT,
 * LAST__CPU_SHIFT = NR_CPUS_BITS, LAST_CPUPID_SHIFT), include/linux/mm.h (cpu_pid_to_cpupid,
 * cpupid_to_pid/cpu, cpupid_pid_unset, PAGE_ACCESS_TIME_*, folio_xchg_access_time),
 * kernel/sched/fair.c (cpupid_valid, numa_hint_fault_latency).
 *
 * Width: the simulator uses NR_CPUS_BITS = 13 by default (CONFIG_NR_CPUS=8192, the x86-64
 * distribution setting), so LAST_CPUPID_SHIFT = 21, a value fits a Uint32Array, and access
 * times are kept modulo 2^21 ms (≈35 min) at 1 ms granularity (PAGE_ACCESS_TIME_BUCKETS = 0).
 * cpupidLayout(8) gives a 16-bit layout (Uint16Array) whose times wrap every 65.5 s.
 */

/** Low bits of the pid kept in a cpupid. */
export const LAST__PID_SHIFT = 8;
/** include/linux/mm.h: "page access time bits needs to hold at least 4 seconds". */
export const PAGE_ACCESS_TIME_MIN_BITS = 12;

export interface CpupidLayout {
  readonly NR_CPUS_BITS: number;
  readonly LAST__PID_MASK: number;
  readonly LAST__CPU_MASK: number;
  readonly LAST_CPUPID_SHIFT: number;
  readonly LAST_CPUPID_MASK: number;
  readonly PAGE_ACCESS_TIME_BUCKETS: number;
  readonly PAGE_ACCESS_TIME_MASK: number;
  /** The reset value (-1 & LAST_CPUPID_MASK): pid and cpu unset. */
  readonly CPUPID_UNSET: number;
}

/** The cpupid layout for a kernel built with NR_CPUS_BITS = nrCpusBits (1..23). */
export function cpupidLayout(nrCpusBits: number): CpupidLayout {
  if (!Number.isInteger(nrCpusBits) || nrCpusBits < 1 || nrCpusBits > 23) {
    throw new RangeError(`NR_CPUS_BITS must be 1..23, got ${nrCpusBits}`);
  }
  const shift = LAST__PID_SHIFT + nrCpusBits;
  const mask = 2 ** shift - 1;
  const buckets = Math.max(0, PAGE_ACCESS_TIME_MIN_BITS - shift);
  return Object.freeze({
    NR_CPUS_BITS: nrCpusBits,
    LAST__PID_MASK: (1 << LAST__PID_SHIFT) - 1,
    LAST__CPU_MASK: 2 ** nrCpusBits - 1,
    LAST_CPUPID_SHIFT: shift,
    LAST_CPUPID_MASK: mask,
    PAGE_ACCESS_TIME_BUCKETS: buckets,
    PAGE_ACCESS_TIME_MASK: mask * 2 ** buckets,
    CPUPID_UNSET: mask,
  });
}

/** The simulator's layout: NR_CPUS_BITS 13 (x86-64 CONFIG_NR_CPUS=8192). */
export const DEFAULT_CPUPID_LAYOUT = cpupidLayout(13);

/** cpu_pid_to_cpupid(): cpu in the high bits, the pid's low 8 bits below. */
export function cpuPidToCpupid(
  cpu: number,
  pid: number,
  layout: CpupidLayout = DEFAULT_CPUPID_LAYOUT,
): number {
  return ((cpu & layout.LAST__CPU_MASK) << LAST__PID_SHIFT) | (pid & layout.LAST__PID_MASK);
}

export function cpupidToPid(cpupid: number, layout: CpupidLayout = DEFAULT_CPUPID_LAYOUT): number {
  return cpupid & layout.LAST__PID_MASK;
}

export function cpupidToCpu(cpupid: number, layout: CpupidLayout = DEFAULT_CPUPID_LAYOUT): number {
  return (cpupid >>> LAST__PID_SHIFT) & layout.LAST__CPU_MASK;
}

/** cpupid_pid_unset(): the pid bits are all ones (also true for a real pid ≡ 255 mod 256). */
export function cpupidPidUnset(cpupid: number, layout: CpupidLayout = DEFAULT_CPUPID_LAYOUT): boolean {
  return cpupidToPid(cpupid, layout) === layout.LAST__PID_MASK;
}

/** cpupid_match_pid(p, cpupid): the task's pid matches in its low 8 bits. */
export function cpupidMatchPid(
  pid: number,
  cpupid: number,
  layout: CpupidLayout = DEFAULT_CPUPID_LAYOUT,
): boolean {
  return (pid & layout.LAST__PID_MASK) === cpupidToPid(cpupid, layout);
}

/**
 * cpupid_valid(): the cpu field names a possible CPU. A scan time left in the field after
 * tiering mode was switched off usually fails this.
 */
export function cpupidValid(
  cpupid: number,
  nrCpuIds: number,
  layout: CpupidLayout = DEFAULT_CPUPID_LAYOUT,
): boolean {
  return cpupidToCpu(cpupid, layout) < nrCpuIds;
}

/**
 * The value folio_xchg_access_time(folio, t) stores: (t >> BUCKETS) & LAST_CPUPID_MASK, with t
 * the 32-bit jiffies_to_msecs() value.
 */
export function accessTimeToCpupidField(
  timeMs: number,
  layout: CpupidLayout = DEFAULT_CPUPID_LAYOUT,
): number {
  return ((timeMs >>> 0) >>> layout.PAGE_ACCESS_TIME_BUCKETS) & layout.LAST_CPUPID_MASK;
}

/**
 * numa_hint_fault_latency() with PAGE_ACCESS_TIME_BUCKETS = 0 (every layout with
 * NR_CPUS_BITS >= 4, including the default): (now - last) & PAGE_ACCESS_TIME_MASK, i.e. the
 * elapsed ms modulo 2^LAST_CPUPID_SHIFT. `lastScanMs` may be the raw scan time or the stored
 * (already masked) field; the result is the same. The caller stores the fault time afterwards
 * (accessTimeToCpupidField(nowMs)), as folio_xchg_access_time() does.
 */
export function numaHintFaultLatency(lastScanMs: number, nowMs: number, accessTimeMask: number): number {
  return ((nowMs - lastScanMs) & accessTimeMask) >>> 0;
}

/**
 * numa_hint_fault_latency() for any layout: the stored field is shifted back by BUCKETS before
 * subtracting (times are then kept in 2^BUCKETS ms buckets).
 */
export function numaHintFaultLatencyFromField(
  storedField: number,
  nowMs: number,
  layout: CpupidLayout = DEFAULT_CPUPID_LAYOUT,
): number {
  const lastTime = storedField * 2 ** layout.PAGE_ACCESS_TIME_BUCKETS;
  return ((nowMs - lastTime) & layout.PAGE_ACCESS_TIME_MASK) >>> 0;
}
